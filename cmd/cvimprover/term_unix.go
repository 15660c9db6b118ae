//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package main

import "golang.org/x/sys/unix"

// canHideInput: password prompts can switch echo off here.
const canHideInput = true

// isTerminal reports whether fd is a terminal (the termios query succeeds
// only on one).
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	return err == nil
}

// setEcho switches the terminal's echo of typed characters and nothing else.
func setEcho(fd int, on bool) error {
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return err
	}
	if on {
		t.Lflag |= unix.ECHO
	} else {
		t.Lflag &^= unix.ECHO
	}
	return unix.IoctlSetTermios(fd, ioctlSetTermios, t)
}
