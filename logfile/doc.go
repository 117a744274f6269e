// Package logfile opens log files and reads them line by line: plain or
// gzip-compressed (detected by content), whole (scan), continued from a
// saved position across runs (resume, for cron and systemd timers), or
// followed as they grow (follow, like tail -F), through logrotate's
// rename+create and copytruncate rotations.
//
// # Reading
//
// Open opens a file ("-" is stdin) and NewLineReader splits it into lines
// without allocating per line; over-long lines are skipped and counted,
// never fatal. SortOldestFirst orders rotated generations (mail.log.2.gz,
// mail.log.1, mail.log) so they are read in time order.
//
// # Identity
//
// Resume and Follow share one rotation model. A generation of a log is
// identified by its device and inode numbers and by a fingerprint: the
// SHA-256 of its first min(size, 1024) bytes (decompressed for .gz). A
// fingerprint taken while the file was shorter than 1024 bytes is matched
// later by hashing the same number of leading bytes (prefix compare). A
// changed fingerprint on the same inode means the file was truncated and
// rewritten (copytruncate), even if it regrew past the old position.
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
// # Delivery guarantee
//
// Delivery is at least once. The state is saved after the output is
// written, so a run killed between writing its output and saving the
// state delivers the same lines again on the next run; nothing is lost.
// Only complete lines count: a half-written last line is read by the
// next run, once complete. Lines are lost only when logrotate removes a
// generation before it was read, when a file is truncated and rewritten
// with the same first bytes past the saved position (undetectable without
// hashing all content), or when copytruncate itself drops lines written
// between its copy and its truncation.
//
// # Follow
//
// Follow returns a Follower that polls (default every 250ms) and returns
// complete lines as the file grows; Next blocks until a line arrives or
// its context is done. It can start at the start, at the end (FromEnd) or
// at a saved Entry, and its Entry method gives the position to save on
// exit, with the same at-least-once guarantee.
package logfile
