package cli

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tessera-id/tessera/sdk/directory"
)

// The show, list and delete verbs of `tessera ad <noun>` differ between
// nouns only in which Graph calls they make, which flag names one object and
// which flags narrow a list; a noun declares those, and verbs builds the
// commands, so that every noun answers the same way.

// graphObject is a directory object kept as Graph returned it, printed whole.
type graphObject interface{ JSON() json.RawMessage }

// objectFlag is the required flag that names one object of a noun: --id, or
// --group/-g for groups.
type objectFlag struct{ name, shorthand, usage string }

func (f objectFlag) addTo(cmd *cobra.Command, ref *string) {
	cmd.Flags().StringVarP(ref, f.name, f.shorthand, "", f.usage)
	_ = cmd.MarkFlagRequired(f.name)
}

// listFilter is a flag of a list verb: when given, its value narrows the
// list by a filter clause on property.
type listFilter struct {
	flag, usage string
	property    string
	clause      func(property, value string) string // directory.Eq, directory.StartsWith, directory.AnyEq or rawFilter
}

// displayNamePrefix is the --display-name flag every list verb has.
var displayNamePrefix = listFilter{"display-name", "display names starting with this", "displayName", directory.StartsWith}

// rawFilter is the clause of a flag that takes a whole OData filter.
func rawFilter(_, filter string) string { return filter }

// noun declares the show, list and delete verbs of one kind of directory
// object.
type noun[T graphObject] struct {
	ref     objectFlag
	resolve func(*directory.Client, context.Context, string) (T, error) // the object the flag names
	// list reads the objects an OData filter keeps; filters are its flags,
	// whose clauses are joined with "and" in this order.
	list    func(*directory.Client, context.Context, string) ([]T, error)
	filters []listFilter
	// remove deletes by object id, from idOf of the resolved object; with
	// idOf nil it takes the flag's value as given (Graph resolves it).
	remove func(*directory.Client, context.Context, string) error
	idOf   func(T) string

	showShort, listShort, deleteShort string
}

// verbs builds the noun's show, list and delete commands.
func (n noun[T]) verbs() (show, list, del *cobra.Command) {
	var ref string
	show = &cobra.Command{
		Use:   "show",
		Short: n.showShort,
		RunE: resolved(&ref, n.resolve, func(_ context.Context, cmd *cobra.Command, _ *graph, obj T) error {
			return printResult(cmd, obj.JSON())
		}),
	}
	n.ref.addTo(show, &ref)

	values := make([]string, len(n.filters))
	list = &cobra.Command{
		Use:   "list",
		Short: n.listShort,
		RunE: withGraph(func(ctx context.Context, cmd *cobra.Command, g *graph) error {
			var filter []string
			for i, f := range n.filters {
				if values[i] != "" {
					filter = append(filter, f.clause(f.property, values[i]))
				}
			}
			objs, err := n.list(g.dir, ctx, strings.Join(filter, " and "))
			if err != nil {
				return err
			}
			return printResult(cmd, rawList(objs))
		}),
	}
	for i, f := range n.filters {
		list.Flags().StringVar(&values[i], f.flag, "", f.usage)
	}

	del = &cobra.Command{
		Use:   "delete",
		Short: n.deleteShort,
		RunE: withGraph(func(ctx context.Context, _ *cobra.Command, g *graph) error {
			if n.idOf == nil {
				return n.remove(g.dir, ctx, ref)
			}
			obj, err := n.resolve(g.dir, ctx, ref)
			if err != nil {
				return err
			}
			return n.remove(g.dir, ctx, n.idOf(obj))
		}),
	}
	n.ref.addTo(del, &ref)
	return show, list, del
}

// withGraph is a verb's RunE that opens the Graph session and runs run.
func withGraph(run func(ctx context.Context, cmd *cobra.Command, g *graph) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		g, err := newGraph()
		if err != nil {
			return err
		}
		return run(cmd.Context(), cmd, g)
	}
}
