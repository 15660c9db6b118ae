package pdf

import _ "embed"

// The DejaVu fonts come from Debian's fonts-dejavu-core (licence in
// fonts/LICENSE). They are embedded so that rendering needs no system fonts and
// covers Latin, Greek and Cyrillic names, typographic quotes and dashes.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
	//go:embed fonts/DejaVuSans-Oblique.ttf
	fontItalic []byte
	//go:embed fonts/DejaVuSans-BoldOblique.ttf
	fontBoldItalic []byte
	//go:embed fonts/DejaVuSansMono.ttf
	fontMono []byte
)

var fontFiles = map[string][]byte{
	"dejavu":     fontRegular,
	"dejavuB":    fontBold,
	"dejavuI":    fontItalic,
	"dejavuBI":   fontBoldItalic,
	"dejavumono": fontMono,
}
