package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"

	jmespath "github.com/jmespath-community/go-jmespath"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// Every command that prints a result takes az's two output flags: --query,
// a JMESPath expression applied to the result (az's query language), and
// -o/--output, the format: json (the default), jsonc, yaml, yamlc, tsv,
// table or none.
// A query is compiled before the command does anything, so a typo in it
// never follows a change that was made.

const (
	outputFlag = "output"
	queryFlag  = "query"
)

var outputFormats = []string{"json", "jsonc", "yaml", "yamlc", "tsv", "table", "none"}

// addOutputFlags puts --output and --query on every command below root.
func addOutputFlags(root *cobra.Command) {
	root.PersistentFlags().StringP(outputFlag, "o", "json", "output format: "+strings.Join(outputFormats, ", "))
	root.PersistentFlags().String(queryFlag, "", "JMESPath query applied to the result, e.g. id, [].name or [?enabled].{name:name, id:id}; see https://jmespath.org")
}

// checkOutputFlags validates the output flags before a command runs.
func checkOutputFlags(cmd *cobra.Command) error {
	_, _, err := outputOptions(cmd)
	return err
}

func outputOptions(cmd *cobra.Command) (string, jmespath.JMESPath, error) {
	format, _ := cmd.Flags().GetString(outputFlag)
	query, _ := cmd.Flags().GetString(queryFlag)
	known := false
	for _, f := range outputFormats {
		known = known || f == format
	}
	if !known {
		return "", nil, usageErrorf("--output %s: not one of %s", format, strings.Join(outputFormats, ", "))
	}
	if query == "" {
		return format, nil, nil
	}
	compiled, err := jmespath.Compile(query)
	if err != nil {
		return "", nil, usageErrorf("--query %s: %v", query, err)
	}
	return format, compiled, nil
}

// printResult prints a command's result as --query and --output ask.
func printResult(cmd *cobra.Command, v any) error {
	format, query, err := outputOptions(cmd)
	if err != nil {
		return err
	}
	return writeResult(cmd.OutOrStdout(), v, format, query)
}

func writeResult(w io.Writer, v any, format string, query jmespath.JMESPath) error {
	if format == "none" {
		return nil
	}
	doc, err := generic(v)
	if err != nil {
		return err
	}
	if query != nil {
		if doc, err = query.Search(doc); err != nil {
			// The command has done its work by now: say so, or a script
			// would retry a change that was made.
			return fmt.Errorf("the command succeeded, but --query could not be applied to its result: %w", err)
		}
	}
	switch format {
	case "tsv":
		return writeTSV(w, doc)
	case "table":
		return writeTable(w, doc)
	case "yaml", "yamlc":
		b, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	default:
		return printJSON(w, doc)
	}
}

// generic turns a result into JSON's generic values, the form JMESPath reads.
func generic(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// scalar is how tsv and table show one value: strings as they are, numbers
// and booleans as JSON, null as nothing; objects and lists are left out, as
// az leaves them out.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case bool, float64:
		b, _ := json.Marshal(x)
		return string(b), true
	}
	return "", false
}

// rows turns a result into rows of columns: a list gives a row per item,
// anything else one row; an object's columns are its scalar fields in key
// order.
func rows(doc any) (header []string, out [][]string) {
	items, isList := doc.([]any)
	if !isList {
		items = []any{doc}
	}
	for _, it := range items {
		if list, isList := it.([]any); isList {
			// A multiselect list ([].[a, b]): one column per element.
			var row []string
			for _, x := range list {
				if s, ok := scalar(x); ok {
					row = append(row, s)
				}
			}
			out = append(out, row)
			continue
		}
		obj, isObj := it.(map[string]any)
		if !isObj {
			if s, ok := scalar(it); ok {
				out = append(out, []string{s})
			}
			continue
		}
		if header == nil {
			for k, v := range obj {
				if _, ok := scalar(v); ok {
					header = append(header, k)
				}
			}
			sort.Strings(header)
		}
		row := make([]string, len(header))
		for i, k := range header {
			row[i], _ = scalar(obj[k])
		}
		out = append(out, row)
	}
	return header, out
}

func writeTSV(w io.Writer, doc any) error {
	_, rs := rows(doc)
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(strings.Join(r, "\t"))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTable prints columns under title-cased headers, as az's table does.
func writeTable(w io.Writer, doc any) error {
	header, rs := rows(doc)
	if len(rs) == 0 {
		return nil
	}
	if header == nil {
		header = make([]string, len(rs[0]))
		for i := range header {
			header[i] = "Column" + strconv.Itoa(i+1)
		}
		if len(header) == 1 {
			header[0] = "Result"
		}
	}
	titles := make([]string, len(header))
	width := make([]int, len(header))
	for i, k := range header {
		titles[i] = title(k)
		width[i] = len(titles[i])
	}
	for _, r := range rs {
		for i, c := range r {
			if i < len(width) && len(c) > width[i] {
				width[i] = len(c)
			}
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			if i == len(cells)-1 {
				b.WriteString(c)
			} else {
				b.WriteString(c + strings.Repeat(" ", width[i]-len(c)))
			}
		}
		b.WriteByte('\n')
	}
	line(titles)
	dashes := make([]string, len(width))
	for i, n := range width {
		dashes[i] = strings.Repeat("-", n)
	}
	line(dashes)
	for _, r := range rs {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func title(k string) string {
	if k == "" {
		return k
	}
	r := []rune(k)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// azFlattened prints ARM resources as az prints them: the fields of
// "properties" lifted beside id, name and type (az's models flatten them),
// so that az's queries such as [].roleName work unchanged.
type azFlattened struct{ v any }

func (f azFlattened) MarshalJSON() ([]byte, error) {
	doc, err := generic(f.v)
	if err != nil {
		return nil, err
	}
	lift := func(x any) any {
		obj, ok := x.(map[string]any)
		if !ok {
			return x
		}
		props, ok := obj["properties"].(map[string]any)
		if !ok {
			return x
		}
		delete(obj, "properties")
		for k, v := range props {
			if _, taken := obj[k]; !taken {
				obj[k] = v
			}
		}
		return obj
	}
	if list, ok := doc.([]any); ok {
		for i := range list {
			list[i] = lift(list[i])
		}
		return json.Marshal(list)
	}
	return json.Marshal(lift(doc))
}
