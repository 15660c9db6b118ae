package files

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
)

// MaxKeyLen is S3's limit on object names.
const MaxKeyLen = 1024

// MaxSegmentLen keeps every segment, and the local store's ".<segment>.meta"
// companion, under the usual 255-byte file name limit.
const MaxSegmentLen = 200

// maxNameLen matches the original's FileField max_length (REFERENCE §8.8).
const maxNameLen = 100

// ValidateKey accepts keys made of '/'-separated segments of
// [A-Za-z0-9._-]. No segment may be empty or start with '.', which rules out
// "." and ".." (traversal), hidden files, and the local store's own temp and
// metadata files, which all start with '.'; nor be longer than MaxSegmentLen.
// Absolute paths, NUL and backslashes fall out of the character set.
func ValidateKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: length %d", ErrInvalidKey, len(key))
	}
	for _, seg := range strings.Split(key, "/") {
		if err := validateSegment(seg); err != nil {
			return fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
	}
	return nil
}

func validateSegment(seg string) error {
	if seg == "" || seg[0] == '.' || len(seg) > MaxSegmentLen {
		return ErrInvalidKey
	}
	for i := 0; i < len(seg); i++ {
		if !keyByte(seg[i]) {
			return ErrInvalidKey
		}
	}
	return nil
}

func keyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// validatePrefix accepts "" and anything that is a key or a key followed by
// '/'. A partial last segment is allowed ("resumes/4" matches "resumes/42/…").
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return ValidateKey(strings.TrimSuffix(prefix, "/"))
}

// Key joins segments into a validated key; each part must be one segment
// (no '/'). Run user-supplied names through SanitiseName first.
func Key(parts ...string) (string, error) {
	if len(parts) == 0 {
		return "", fmt.Errorf("%w: no parts", ErrInvalidKey)
	}
	for _, p := range parts {
		if err := validateSegment(p); err != nil {
			return "", fmt.Errorf("%w: bad segment %q", ErrInvalidKey, p)
		}
	}
	k := strings.Join(parts, "/")
	if err := ValidateKey(k); err != nil {
		return "", err
	}
	return k, nil
}

// RandomSegment returns 128 random bits as 32 hex characters, for the
// unguessable directory between the owner and the file name
// (resumes/<user id>/<random>/<name>): it replaces the original's guessable
// paths and its "_" + 7 characters collision suffix.
func RandomSegment() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// SanitiseName turns an uploaded file name into a key segment the way the
// original did (REFERENCE §8.8): surrounding whitespace trimmed, spaces → '_',
// every character other than ASCII letters, digits, '-', '_', '.' dropped.
// Beyond the original: any directory part is removed, leading dots are
// dropped (so the result is never hidden, "." or ".."), the result is at most
// 100 characters with the extension kept, and an empty name becomes "file".
func SanitiseName(name string) string {
	name = strings.TrimSpace(name)
	// Browsers on Windows may send a full path; only the last element is a name.
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == ' ':
			b.WriteByte('_')
		case r < 0x80 && keyByte(byte(r)):
			b.WriteRune(r)
		}
	}
	s := b.String()

	base, ext := s, ""
	if i := strings.LastIndexByte(s, '.'); i >= 0 && i < len(s)-1 {
		base, ext = s[:i], s[i:]
	}
	if len(ext) >= maxNameLen/2 {
		// An "extension" this long is just part of the name.
		base, ext = s, ""
	}
	base = strings.TrimLeft(base, ".")
	if base == "" {
		base = "file"
	}
	if len(base)+len(ext) > maxNameLen {
		base = base[:maxNameLen-len(ext)]
	}
	return base + ext
}

// baseName is the file name shown in Content-Disposition.
func baseName(key string) string { return path.Base(key) }
