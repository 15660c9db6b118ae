package password

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"sync"
	"unicode/utf8"
)

// Django's English messages, verbatim.
const (
	MsgTooSimilarFormat = "The password is too similar to the %s."
	MsgTooShort         = "This password is too short. It must contain at least 8 characters."
	MsgTooCommon        = "This password is too common."
	MsgEntirelyNumeric  = "This password is entirely numeric."
)

const (
	minLength     = 8
	maxSimilarity = 0.7
)

// UserAttrs are the user fields the similarity check compares against. The
// zero value means "no user", as Django's validate_password(pw, user=None).
type UserAttrs struct {
	Username  string
	FirstName string
	LastName  string
	Email     string
}

// Validate runs Django's four default validators in settings order
// (UserAttributeSimilarity, MinimumLength(8), CommonPassword, NumericPassword)
// and returns every failing message; nil means acceptable.
func Validate(pw string, user UserAttrs) []string {
	var errs []string
	if name, ok := tooSimilar(pw, user); ok {
		errs = append(errs, fmt.Sprintf(MsgTooSimilarFormat, name))
	}
	if utf8.RuneCountInString(pw) < minLength {
		errs = append(errs, MsgTooShort)
	}
	if isCommon(pw) {
		errs = append(errs, MsgTooCommon)
	}
	if pyIsDigit(pw) {
		errs = append(errs, MsgEntirelyNumeric)
	}
	return errs
}

// tooSimilar is UserAttributeSimilarityValidator.validate (Django 4.x/5.x,
// identical to the 3.2 security backport): each attribute is compared whole
// and split on \W+; the first attribute over the threshold wins.
func tooSimilar(pw string, u UserAttrs) (verboseName string, found bool) {
	password := []rune(pyLower(pw))
	attrs := [...]struct{ value, name string }{
		{u.Username, "username"},
		{u.FirstName, "first name"},
		{u.LastName, "last name"},
		{u.Email, "email address"},
	}
	for _, a := range attrs {
		if a.value == "" {
			continue
		}
		lower := pyLower(a.value)
		parts := append(pySplitNonWord(lower), lower)
		for _, part := range parts {
			value := []rune(part)
			if exceedsMaximumLengthRatio(len(password), len(value)) {
				continue
			}
			if quickRatio(password, value) >= maxSimilarity {
				return a.name, true
			}
		}
	}
	return "", false
}

// exceedsMaximumLengthRatio is Django's shortcut: a value at most a tenth of
// the password's length cannot reach the threshold, so it is skipped.
func exceedsMaximumLengthRatio(pwdLen, valueLen int) bool {
	ms := maxSimilarity // float64 arithmetic in Python's order
	lengthBoundSimilarity := ms / 2 * float64(pwdLen)
	return pwdLen >= 10*valueLen && float64(valueLen) < lengthBoundSimilarity
}

// quickRatio is difflib.SequenceMatcher(a=a, b=b).quick_ratio(): the size of
// the multiset intersection, as 2*M/T (1.0 when both are empty).
func quickRatio(a, b []rune) float64 {
	fullbcount := make(map[rune]int, len(b))
	for _, r := range b {
		fullbcount[r]++
	}
	avail := make(map[rune]int, len(a))
	matches := 0
	for _, r := range a {
		numb, ok := avail[r]
		if !ok {
			numb = fullbcount[r]
		}
		avail[r] = numb - 1
		if numb > 0 {
			matches++
		}
	}
	length := len(a) + len(b)
	if length == 0 {
		return 1.0
	}
	return 2.0 * float64(matches) / float64(length)
}

// common-passwords.txt.gz is Django's CommonPasswordValidator list (20,000
// passwords by Royce Williams, lower-cased and de-duplicated), copied from
// django/contrib/auth of Debian's python3-django 3.2.25 (the list is
// unchanged since Django 2.1.4). Django is BSD-3-Clause licensed:
// Copyright (c) Django Software Foundation and individual contributors.
// All rights reserved.
//
//go:embed common-passwords.txt.gz
var commonGz []byte

var commonSet = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		panic("password: embedded common-passwords list: " + err.Error())
	}
	set := make(map[string]struct{}, 20000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		set[pyStrip(sc.Text())] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		panic("password: embedded common-passwords list: " + err.Error())
	}
	return set
})

func isCommon(pw string) bool {
	_, ok := commonSet()[pyStrip(pyLower(pw))]
	return ok
}
