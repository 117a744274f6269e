// Package atomicfile replaces files so that a crash leaves either the old
// or the new content, never a mix and never a stray temporary file: the
// way mailaudit writes its state, caches and downloaded lists.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data and mode perm: it writes a temporary
// file in the same directory, syncs it, renames it over path and syncs the
// directory. On failure path is untouched and the temporary file removed.
// A directory sync that the file system does not support is not an error.
func WriteFile(path string, data []byte, perm fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, derr := os.Open(dir)
	if derr != nil {
		return nil // renamed; the directory sync is best effort
	}
	defer d.Close()
	if serr := d.Sync(); serr != nil && !errors.Is(serr, errors.ErrUnsupported) {
		return &fs.PathError{Op: "sync", Path: dir, Err: serr}
	}
	return nil
}
