// Package password hashes, verifies and validates user passwords.
//
// New hashes are argon2id. Hashes written by the Django original
// (pbkdf2_sha256, also pbkdf2_sha1 and Django's own argon2 format) verify and
// are reported as needing a rehash so the caller can upgrade them on login.
package password

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen int
	KeyLen  int
}

// Current is what Hash uses: OWASP's argon2id baseline (19 MiB, t=2, p=1).
// Measured at 20–37 ms of one core per hash on the 2-core development
// machine (BenchmarkHash), inside the 50 ms budget; memory is the cost that
// hurts an attacker, and 19 MiB per concurrent login is affordable here.
var Current = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read back from stored hashes, so a corrupted row
// cannot make one verification allocate gigabytes or spin for minutes.
const (
	maxArgonMemory     = 1 << 20 // KiB (1 GiB)
	maxArgonTime       = 64
	maxPBKDF2Iter      = 20_000_000
	unusablePrefix     = "!"
	argonPrefix        = "argon2id$"
	djangoArgonPrefix  = "argon2$argon2id$"
	djangoPBKDF2SHA256 = "pbkdf2_sha256"
	djangoPBKDF2SHA1   = "pbkdf2_sha1"
)

var (
	// ErrUnknownFormat means the stored value is not a hash this package can
	// check (unknown algorithm or corrupted). Treat as a failed login.
	ErrUnknownFormat = errors.New("password: unknown or malformed hash")
)

var b64 = base64.RawStdEncoding

// Hash returns a PHC-style argon2id hash:
// argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64).
func Hash(pw string) (string, error) {
	return hashWith(pw, Current)
}

func hashWith(pw string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := idKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen))
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", argonPrefix, argon2.Version,
		p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches encoded. needsRehash is true when the
// match used anything but the Current argon2id parameters, so the caller
// should store Hash(pw) now. Unusable passwords ("!" prefix, as Django writes
// for social-only accounts) never match and are not an error.
func Verify(pw, encoded string) (ok, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(encoded, unusablePrefix):
		return false, false, nil
	case strings.HasPrefix(encoded, argonPrefix):
		return verifyArgon(pw, encoded[len(argonPrefix):], false)
	case strings.HasPrefix(encoded, djangoArgonPrefix):
		return verifyArgon(pw, encoded[len(djangoArgonPrefix):], true)
	case strings.HasPrefix(encoded, djangoPBKDF2SHA256+"$"):
		ok, err := verifyPBKDF2(pw, encoded, sha256.New)
		return ok, ok, err
	case strings.HasPrefix(encoded, djangoPBKDF2SHA1+"$"):
		ok, err := verifyPBKDF2(pw, encoded, sha1.New)
		return ok, ok, err
	}
	return false, false, ErrUnknownFormat
}

// DummyVerify costs what a real verification of an argon2 hash costs. Call it
// when the account does not exist so response time does not reveal that.
func DummyVerify(pw string) {
	idKey([]byte(pw), dummySalt[:], Current.Time, Current.Memory, Current.Threads, uint32(Current.KeyLen))
}

var dummySalt [16]byte

// verifyArgon checks "v=19$m=..,t=..,p=..$salt$key".
func verifyArgon(pw, rest string, djangoFormat bool) (bool, bool, error) {
	parts := strings.Split(rest, "$")
	if len(parts) != 4 || parts[0] != "v="+strconv.Itoa(argon2.Version) {
		return false, false, ErrUnknownFormat
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[1], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil ||
		fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) != parts[1] {
		return false, false, ErrUnknownFormat
	}
	if m == 0 || m > maxArgonMemory || t == 0 || t > maxArgonTime || p == 0 {
		return false, false, ErrUnknownFormat
	}
	salt, err1 := b64.DecodeString(parts[2])
	want, err2 := b64.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) < 16 || len(want) > 128 {
		return false, false, ErrUnknownFormat
	}
	got := idKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	stale := djangoFormat || m != Current.Memory || t != Current.Time || p != Current.Threads ||
		len(want) != Current.KeyLen || len(salt) < Current.SaltLen
	return true, stale, nil
}

// verifyPBKDF2 reproduces Django's PBKDF2PasswordHasher: the key is derived
// from the UTF-8 password and the salt string as stored, with the digest's
// own length, and compared as standard padded base64.
func verifyPBKDF2(pw, encoded string, h func() hash.Hash) (bool, error) {
	parts := strings.SplitN(encoded, "$", 4)
	if len(parts) != 4 || parts[2] == "" {
		return false, ErrUnknownFormat
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > maxPBKDF2Iter || strconv.Itoa(iter) != parts[1] {
		return false, ErrUnknownFormat
	}
	size := h().Size()
	if base64.StdEncoding.EncodedLen(size) != len(parts[3]) {
		return false, ErrUnknownFormat
	}
	got, err := limited(func() ([]byte, error) { return pbkdf2.Key(h, pw, []byte(parts[2]), iter, size) })
	if err != nil {
		return false, fmt.Errorf("password: pbkdf2: %w", err)
	}
	// Django compares the encoded strings; doing the same keeps non-canonical
	// base64 from ever matching.
	enc := base64.StdEncoding.EncodeToString(got)
	return subtle.ConstantTimeCompare([]byte(enc), []byte(parts[3])) == 1, nil
}

// slots bounds concurrent password computations to the number of CPUs. Each
// argon2id computation holds ~19 MiB; dozens at once (a login burst) only
// add memory pressure and GC work without finishing any sooner, so extra
// callers wait their turn instead.
var slots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

func limited(f func() ([]byte, error)) ([]byte, error) {
	slots <- struct{}{}
	defer func() { <-slots }()
	return f()
}

func idKey(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	k, _ := limited(func() ([]byte, error) { return argon2.IDKey(pw, salt, time, memory, threads, keyLen), nil })
	return k
}
