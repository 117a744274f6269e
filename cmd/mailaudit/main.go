// Command mailaudit tells a mail server admin who logs in to their users'
// mailboxes, from where, and whether to worry, from Dovecot and Postfix logs.
package main

import "os"

func main() {
	stop := tuneMemory()
	code := Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
