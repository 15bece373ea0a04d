package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// --query: the small part of az's JMESPath queries a shell script needs to
// capture one value, e.g. WS=$(tessera ml workspace show --query id).

const queryUsage = "print only this field as plain text: a dotted path such as id or properties.provisioningState (for a list, one line per item)"

func addQueryFlag(cmd *cobra.Command, q *string) {
	cmd.Flags().StringVar(q, "query", "", queryUsage)
}

// printQuery prints v as JSON, or with query only the field it names.
func printQuery(w io.Writer, v any, query string) error {
	if query == "" {
		return printJSON(w, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	path := strings.Split(strings.TrimPrefix(strings.TrimPrefix(query, "[]"), "."), ".")
	items, isList := doc.([]any)
	if !isList {
		items = []any{doc}
	}
	for _, item := range items {
		val, ok := field(item, path)
		if !ok {
			return fmt.Errorf("--query %s: no such field", query)
		}
		switch x := val.(type) {
		case string:
			fmt.Fprintln(w, x)
		case nil:
			fmt.Fprintln(w)
		default:
			b, _ := json.Marshal(x)
			fmt.Fprintln(w, string(b))
		}
	}
	return nil
}

func field(v any, path []string) (any, bool) {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		found := false
		for k, x := range m {
			if strings.EqualFold(k, p) {
				v, found = x, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return v, true
}
