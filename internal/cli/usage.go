package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// UsageError is a command line Tessera cannot run: a command it does not
// know, a missing argument or flag, an unknown flag. It exits 2, as az
// does, so that a script tells a mistyped command from one that ran and
// failed (1) or one that worked (0).
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &UsageError{msg: fmt.Sprintf(format, a...)}
}

// Main runs root with args and returns the process's exit status, writing
// any error to stderr. root is made strict first (see strict), so it must
// already hold every command.
func Main(root *cobra.Command, args []string, stderr io.Writer) int {
	strict(root)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	// `tessera compute run` exits with the status of the command it ran.
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	fmt.Fprintln(stderr, "tessera:", err)
	var usage *UsageError
	if errors.As(err, &usage) {
		return 2
	}
	return 1
}

// strict closes the gaps cobra leaves open for a command line that names
// nothing runnable. By default cobra prints help and succeeds for a group
// given an unknown word (`tessera tenant show`) or no word at all, and lets
// a leaf ignore extra words; and it reports missing flags and bad flags as
// plain errors, which would make them indistinguishable from a failed
// request.
func strict(root *cobra.Command) {
	// Both are otherwise added during Execute, after this walk.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.SetFlagErrorFunc(flagError)
	// A group runs only to refuse its arguments; its usage still reads
	// "tessera tenant [command]", not as if it did something on its own.
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "{{if .Runnable}}", "{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.Name() == "help" && c.Parent() == root:
			c.Args = helpArgs
		case c.HasSubCommands() && !c.Runnable():
			c.Args = groupArgs
			c.RunE = func(*cobra.Command, []string) error { return nil }
		default:
			c.Args = leafArgs(c.Args)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// groupArgs accepts only a bare root, which prints the help; any other
// group needs one of its commands.
func groupArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return unknownCommand(c, args[0])
	}
	if !c.HasParent() {
		return c.Help()
	}
	return usageErrorf("'%s' needs a command: %s. See '%s --help'.", c.CommandPath(), commandNames(c), c.CommandPath())
}

func unknownCommand(c *cobra.Command, word string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "'%s' is misspelled or not recognized by the system.", word)
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(word); len(s) > 0 {
		fmt.Fprintf(&b, " Did you mean '%s %s'?", c.CommandPath(), s[0])
	}
	fmt.Fprintf(&b, "\nCommands of '%s': %s. See '%s --help'.", c.CommandPath(), commandNames(c), c.CommandPath())
	return &UsageError{msg: b.String()}
}

func commandNames(c *cobra.Command) string {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// leafArgs checks the required flags before cobra would (after the
// command's PreRun), so that a missing one is a UsageError; and a leaf
// that declares no positional arguments takes none.
func leafArgs(declared cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if declared == nil && len(args) > 0 {
			return usageErrorf("unrecognized arguments: %s", strings.Join(args, " "))
		}
		if declared != nil {
			if err := declared(c, args); err != nil {
				return &UsageError{msg: err.Error()}
			}
		}
		var missing []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if req := f.Annotations[cobra.BashCompOneRequiredFlag]; len(req) > 0 && req[0] == "true" && !f.Changed {
				missing = append(missing, "--"+f.Name)
			}
		})
		if len(missing) > 0 {
			return usageErrorf("the following arguments are required: %s", strings.Join(missing, ", "))
		}
		return checkOutputFlags(c)
	}
}

// helpArgs refuses help on a command that does not exist instead of
// printing the root's usage and succeeding.
func helpArgs(c *cobra.Command, args []string) error {
	found, rest, err := c.Root().Find(args)
	if err != nil || len(rest) > 0 {
		if found == nil {
			found = c.Root()
		}
		word := strings.Join(args, " ")
		if len(rest) > 0 {
			word = rest[0]
		}
		return unknownCommand(found, word)
	}
	return nil
}

// flagError turns a flag cobra cannot parse into a UsageError. On a group
// the unknown flag most likely belongs to the command the user meant, so
// the unknown command is what is reported (`tessera tenant show
// --data-dir d`).
func flagError(c *cobra.Command, err error) error {
	if c.HasSubCommands() {
		if args := c.Flags().Args(); len(args) > 0 {
			return unknownCommand(c, args[0])
		}
	}
	return &UsageError{msg: err.Error()}
}
