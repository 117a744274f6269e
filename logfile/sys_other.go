//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package logfile

import (
	"errors"
	"io/fs"
	"os"
)

// fileID returns zero: this platform has no portable inode numbers, so
// identity rests on the fingerprint alone.
func fileID(fs.FileInfo) (dev, ino uint64) { return 0, 0 }

// flock is not supported on this platform.
func flock(*os.File) error { return errors.ErrUnsupported }
