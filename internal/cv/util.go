package cv

import (
	"bytes"
	"io"
)

func readFull(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return n, err
}

func bytesReaderAt(b []byte) *bytes.Reader { return bytes.NewReader(b) }
