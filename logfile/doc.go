// Package logfile opens log files and reads them line by line: plain,
// gzip- or bzip2-compressed (detected by content), whole (scan), continued
// from a saved position across runs (resume, for cron and systemd
// timers), or followed as they grow (follow, like tail -F), through
// logrotate's rename+create and copytruncate rotations.
//
// # Reading
//
// Open opens a file ("-" is stdin), plain, gzip- or bzip2-compressed
// (detected by content), and NewLineReader splits it into lines without
// allocating per line; over-long lines are skipped and counted, never
// fatal. LineReader.NextMatch passes over whole blocks of lines that
// contain none of a Filter's markers at memchr speed, with the same line
// numbers, offsets and over-long lines as Next. SortOldestFirst orders rotated generations (mail.log.2.gz,
// mail.log.1, mail.log) so they are read in time order.
//
// # Rotation schemes
//
// Rotated generations are found next to the log (next to the file a
// symbolic link points to, then next to the link) under these names,
// optionally with .gz or .bz2 appended:
//
//   - numbered: mail.log.1, mail.log.2.gz (logrotate), mail.log.0.bz2
//     (FreeBSD newsyslog), mail.log.1 from an rsyslog $outchannel script;
//   - dated, logrotate's dateext: mail.log-20261124 and the dateformats
//     -%Y%m%d%H, -%s, -%Y-%m-%d and -%Y%m%d-%s (maillog-20261124 on RHEL).
//
// logrotate's create, copytruncate, compress and delaycompress work in
// any combination. Generations are read in the order of their last write
// (modification time, which renaming keeps and logrotate's compression
// copies), then of their names, so a log whose naming scheme changed is
// still read in order. While a generation is being compressed (mail.log.1
// and mail.log.1.gz both present) only the uncompressed one is read.
// Generations compressed with xz, zstd, lz4, lzma or compress cannot be
// read and are ignored; so are generations moved to another directory
// (logrotate's olddir): lines not yet read when such a rotation happens
// are lost, and a later run starts the log's current file from its start.
//
// # Identity
//
// Resume and Follow share one rotation model. A generation of a log is
// identified by its device and inode numbers and by a fingerprint: the
// SHA-256 of its first min(size, 1024) bytes (decompressed for .gz and
// .bz2). A fingerprint taken while the file was shorter than 1024 bytes
// is matched later by hashing the same number of leading bytes (prefix
// compare). A saved position carries a second check, the SHA-256 of the
// min(offset, 1024) bytes just before it: a generation continues a saved
// position only if it has the fingerprint and those bytes at that place.
// This tells apart generations that start alike (a header repeated at
// each rotation) and refuses positions past a generation's end. A changed
// fingerprint or position check on the same inode means the file was
// truncated and rewritten (copytruncate), even if it regrew past the old
// position; the same fingerprint and check under another inode or device
// (a restored copy, device numbers renumbered at boot) is the same
// content and is continued.
//
// # Resume
//
// A State file keeps one Entry per log: identity, fingerprint, and the
// offset just past the last complete line consumed. A run looks like:
//
//	lk, err := logfile.Lock(statePath) // errors.Is(err, logfile.ErrLocked): a previous run is still going
//	if err != nil { … }
//	defer lk.Unlock()
//	st, err := logfile.LoadState(statePath) // missing file: empty state
//	if err != nil { … }
//	for _, path := range paths {
//		rs, err := logfile.Resume(path, st.Entry(path))
//		if err != nil { … }
//		for {
//			line, err := rs.Next()
//			if err == io.EOF { break }
//			if err != nil { … }
//			handle(rs.Name(), rs.LineNo(), line)
//		}
//		st.Set(path, rs.Commit())
//		rs.Close()
//	}
//	flush output
//	err = st.Save(statePath) // atomic: temp file, fsync, rename, fsync dir
//
// A log without an entry is read from its start on the first run; to
// start at its end instead, resume from EndEntry(path) when
// st.Entry(path).IsZero(). State keys are the paths as given; pass the
// same (preferably absolute) paths on every run. Stdin ("-") has no
// position to save and cannot be resumed or followed.
//
// Right after a rename rotation the new file may stay empty while the
// writer still appends to the renamed one (until it reopens): as long as
// the new file is empty, Resume stays in the renamed generation. A
// rotated generation that cannot be read to its end (a .gz cut short)
// makes Next return an error naming it; Commit then points just past its
// last complete line, and calling Next again gives the rest of it up and
// goes on with the next generation.
//
// # Delivery guarantee
//
// Delivery is at least once. The state is saved after the output is
// written, so a run killed between writing its output and saving the
// state delivers the same lines again on the next run; nothing is lost.
// Only complete lines count: a half-written last line is read by the
// next run, once complete. Lines are lost only when logrotate removes a
// generation before it was read (or moves it away, olddir, or compresses
// it with an unsupported tool), when a generation is unreadable or
// damaged, when a file is truncated and rewritten with the same first
// 1024 bytes and the same 1024 bytes before the saved position
// (undetectable without hashing all content), or when copytruncate itself
// drops lines written between its copy and its truncation.
//
// # Follow
//
// Follow returns a Follower that polls (default every 250ms) and returns
// complete lines as the file grows; Next blocks until a line arrives or
// its context is done. It can start at the start, at the end (FromEnd) or
// at a saved Entry, and its Entry method gives the position to save on
// exit, with the same at-least-once guarantee.
package logfile
