package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/internal/app"
)

// The marker lines around the block `tessera hosts --apply` writes.
const (
	hostsBegin = "# BEGIN tessera public cloud names (tessera hosts --remove takes this block out)"
	hostsEnd   = "# END tessera public cloud names"
)

// hostsCommand prints, writes or removes the hosts-file lines that send the
// public cloud's host names to a Tessera serving them (serve
// --public-cloud-names).
func hostsCommand() *cobra.Command {
	var address, file string
	var apply, remove bool
	cmd := &cobra.Command{
		Use:   "hosts",
		Short: "Print (or --apply to a hosts file) the lines that send the public cloud's host names to Tessera",
		Long: `Prints the hosts-file lines that resolve the public cloud's host names (` + strings.Join(app.PublicCloudHosts(), ", ") + `)
to --address, for a Tessera started with ` + "`tessera serve --public-cloud-names`" + ` listening there on port 443.

--apply writes them to --file (default /etc/hosts) between two marker comments, replacing the block a
previous --apply wrote, so running it again changes nothing; --remove takes the block out. The file is
rewritten in place (a container's /etc/hosts is a mount that cannot be replaced).

While the lines are in place this machine cannot reach Microsoft's own endpoints under those names.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if apply && remove {
				return errors.New("--apply and --remove: give one")
			}
			if net.ParseIP(address) == nil {
				return fmt.Errorf("--address %q is not an IP address", address)
			}
			block := hostsBlock(address)
			if !apply && !remove {
				_, err := io.WriteString(cmd.OutOrStdout(), block)
				return err
			}
			old, err := os.ReadFile(file)
			if err != nil && !(apply && errors.Is(err, os.ErrNotExist)) {
				return err
			}
			rest := withoutHostsBlock(string(old))
			next := rest
			if apply {
				if next != "" && !strings.HasSuffix(next, "\n") {
					next += "\n"
				}
				next += block
				for _, line := range conflictingHostsLines(rest) {
					fmt.Fprintf(cmd.ErrOrStderr(), "tessera hosts: %s already has %q, which resolvers may read first\n", file, line)
				}
			}
			if next == string(old) {
				fmt.Fprintf(cmd.ErrOrStderr(), "tessera hosts: %s is already as asked; unchanged\n", file)
				return nil
			}
			if err := writeInPlace(file, []byte(next)); err != nil {
				return err
			}
			if apply {
				fmt.Fprintf(cmd.ErrOrStderr(), "tessera hosts: %s sends %s to %s\n", file, strings.Join(app.PublicCloudHosts(), ", "), address)
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "tessera hosts: removed Tessera's block from %s\n", file)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&address, "address", "127.0.0.1", "the IP address Tessera listens on")
	f.StringVar(&file, "file", "/etc/hosts", "the hosts file --apply and --remove change")
	f.BoolVar(&apply, "apply", false, "write the lines to --file, between marker comments")
	f.BoolVar(&remove, "remove", false, "remove the lines --apply wrote from --file")
	return cmd
}

// hostsBlock is the marked block of lines for address.
func hostsBlock(address string) string {
	var b strings.Builder
	b.WriteString(hostsBegin + "\n")
	for _, name := range app.PublicCloudHosts() {
		b.WriteString(address + " " + name + "\n")
	}
	b.WriteString(hostsEnd + "\n")
	return b.String()
}

// withoutHostsBlock removes every marked block from a hosts file's text. A
// begin marker with no end marker after it is left alone, with what
// follows it: that is not a block this command wrote whole.
func withoutHostsBlock(text string) string {
	var out, block []string
	inBlock := false
	for _, line := range strings.SplitAfter(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !inBlock && trimmed == hostsBegin:
			inBlock, block = true, []string{line}
		case inBlock && trimmed == hostsEnd:
			inBlock, block = false, nil
		case inBlock:
			block = append(block, line)
		default:
			out = append(out, line)
		}
	}
	return strings.Join(append(out, block...), "")
}

// conflictingHostsLines are the lines outside the block that already name
// one of the public cloud's hosts.
func conflictingHostsLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		for _, name := range fields[1:] {
			if strings.HasPrefix(name, "#") {
				break
			}
			if slices.Contains(app.PublicCloudHosts(), strings.ToLower(name)) {
				out = append(out, strings.TrimSpace(line))
				break
			}
		}
	}
	return out
}

// writeInPlace rewrites path's content without replacing the file, keeping
// its mode and owner; a new file gets mode 0644.
func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
