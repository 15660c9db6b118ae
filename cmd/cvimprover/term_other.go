//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package main

import (
	"errors"
	"os"
)

// canHideInput: without termios, passwords come from the flag or the
// environment, never from a prompt that would echo them.
const canHideInput = false

func isTerminal(fd int) bool {
	fi, err := os.Stdin.Stat()
	return err == nil && fd == int(os.Stdin.Fd()) && fi.Mode()&os.ModeCharDevice != 0
}

func setEcho(int, bool) error { return errors.New("not supported") }
