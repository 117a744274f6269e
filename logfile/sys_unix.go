//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package logfile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// fileID returns the device and inode numbers of fi.
func fileID(fi fs.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}

// flock takes an exclusive, non-blocking lock on f.
func flock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}
