// Command compatmatrix writes docs/compatibility.md from the results of the
// compatibility and integration tests: which client works with which
// workflow, as the last run found it. The page is generated, never edited:
//
//	go test -count=1 -json ./test/compat/ ./test/integration/ | go run ./tools/compatmatrix -o docs/compatibility.md
//
// With -passthrough it also prints what plain `go test` would (package
// results, and the output of failed tests), so that scripts/test.sh can
// run the whole suite through it. It writes the page only when the input
// holds results of both test/compat and test/integration.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

func main() {
	in := flag.String("in", "-", "go test -json output to read (- for stdin)")
	out := flag.String("o", "", "markdown file to write (empty: do not write)")
	goMod := flag.String("gomod", "go.mod", "go.mod to read the Azure SDK versions from")
	passthrough := flag.Bool("passthrough", false, "print package results and failed tests' output, as go test does")
	flag.Parse()
	r := os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		r = f
	}
	var echo io.Writer
	if *passthrough {
		echo = os.Stdout
	}
	res, err := read(r, echo)
	if err != nil {
		fatal(err)
	}
	if *out == "" {
		return
	}
	if missing := res.missing(compat, integration); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "compatmatrix: not writing %s: no results for %s\n", *out, strings.Join(missing, ", "))
		return
	}
	mods, _ := os.ReadFile(*goMod)
	page := render(res, moduleVersions(string(mods)))
	if err := os.WriteFile(*out, []byte(page), 0o644); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "compatmatrix: wrote %s\n", *out)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "compatmatrix:", err)
	os.Exit(1)
}

// event is one line of go test -json (test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

// results are the outcomes of one run.
type results struct {
	// outcome[package][test] is pass, fail or skip.
	outcome map[string]map[string]string
	// reason[package][test] is a skipped test's message.
	reason map[string]map[string]string
	// versions the tests logged, by label.
	versions map[string]string
}

// versionPatterns pick client versions out of the tests' logs.
var versionPatterns = []struct {
	label string
	re    *regexp.Regexp
}{
	{"azure-cli", regexp.MustCompile(`azure-cli (\d[\w.]*)`)},
	{"azure-mgmt-authorization (in az)", regexp.MustCompile(`azure-mgmt-authorization (\d[\w.]*)`)},
	{"azure-identity (Python)", regexp.MustCompile(`azure-identity (\d[\w.]*)`)},
	{"msal (Python)", regexp.MustCompile(`msal (\d[\w.]*)`)},
	{"azure-ai-ml", regexp.MustCompile(`azure-ai-ml (\d[\w.]*)`)},
	{"azure-core (Python)", regexp.MustCompile(`azure-core (\d[\w.]*)`)},
	{"@azure/identity (Node)", regexp.MustCompile(`@azure/identity (\d[\w.]*)`)},
	{"@azure/msal-node", regexp.MustCompile(`@azure/msal-node (\d[\w.]*)`)},
}

var fileLine = regexp.MustCompile(`^\s*\S+\.go:\d+: `)

// guid: test names that carry a generated id (a tenant's) are reported
// with a placeholder, so that the page changes only when results do.
var guid = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// read consumes a test2json stream. echo, when set, receives what plain
// go test prints.
func read(r io.Reader, echo io.Writer) (*results, error) {
	res := &results{outcome: map[string]map[string]string{}, reason: map[string]map[string]string{}, versions: map[string]string{}}
	pending := map[string][]event{} // package → buffered test output
	lastLog := map[string]string{}  // package/test → last log line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			if echo != nil {
				fmt.Fprintf(echo, "%s\n", line) // not JSON: pass it on
			}
			continue
		}
		pkg := e.Package
		if pkg == "" {
			pkg = e.ImportPath
		}
		e.Test = guid.ReplaceAllString(e.Test, "{id}")
		switch {
		case e.Action == "build-output" || e.Action == "build-fail":
			if echo != nil {
				fmt.Fprint(echo, e.Output)
			}
		case e.Action == "output":
			for _, v := range versionPatterns {
				if _, seen := res.versions[v.label]; !seen {
					if m := v.re.FindStringSubmatch(e.Output); m != nil {
						res.versions[v.label] = m[1]
					}
				}
			}
			if e.Test == "" {
				if echo != nil && e.Output != "PASS\n" { // plain go test prints only "ok"
					fmt.Fprint(echo, e.Output)
				}
				continue
			}
			if t := strings.TrimSpace(e.Output); t != "" && !strings.HasPrefix(t, "=== ") && !strings.HasPrefix(t, "--- ") {
				lastLog[pkg+"\x00"+e.Test] = fileLine.ReplaceAllString(t, "")
			}
			if echo != nil {
				pending[pkg] = append(pending[pkg], e)
			}
		case e.Test != "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
			if res.outcome[pkg] == nil {
				res.outcome[pkg], res.reason[pkg] = map[string]string{}, map[string]string{}
			}
			res.outcome[pkg][e.Test] = e.Action
			if e.Action == "skip" {
				res.reason[pkg][e.Test] = lastLog[pkg+"\x00"+e.Test]
			}
			if echo != nil && !strings.Contains(e.Test, "/") {
				// A top-level test ended: show its output if it failed.
				var keep []event
				for _, o := range pending[pkg] {
					if o.Test == e.Test || strings.HasPrefix(o.Test, e.Test+"/") {
						if e.Action == "fail" {
							fmt.Fprint(echo, o.Output)
						}
						continue
					}
					keep = append(keep, o)
				}
				pending[pkg] = keep
			}
		}
	}
	return res, sc.Err()
}

// missing lists the package suffixes with no results.
func (r *results) missing(suffixes ...string) []string {
	var out []string
	for _, s := range suffixes {
		found := false
		for pkg, tests := range r.outcome {
			found = found || (strings.HasSuffix(pkg, "/"+s) && len(tests) > 0)
		}
		if !found {
			out = append(out, s)
		}
	}
	return out
}

// hit is one test result a rule selected.
type hit struct {
	Package, Test, Outcome, Reason string
}

// cell gathers the results the rules select for a client and workflow.
func (r *results) cell(clientName, workflow string) (hits []hit, covered bool) {
	for _, ru := range rules {
		if ru.Client != clientName || ru.Workflow != workflow {
			continue
		}
		covered = true
		var sub *regexp.Regexp
		if ru.Sub != "" {
			sub = regexp.MustCompile(ru.Sub)
		}
		for pkg, tests := range r.outcome {
			if !strings.HasSuffix(pkg, "/"+ru.Package) {
				continue
			}
			matched := false
			for name, outcome := range tests {
				top, rest, isSub := strings.Cut(name, "/")
				if top != ru.Test {
					continue
				}
				if (sub == nil && isSub) || (sub != nil && (!isSub || !sub.MatchString(rest))) {
					continue
				}
				hits = append(hits, hit{ru.Package, name, outcome, r.reason[pkg][name]})
				matched = true
			}
			// A test skipped (or failed) as a whole never ran the
			// subtests a rule selects: the cell takes the test's outcome.
			if top, ok := tests[ru.Test]; sub != nil && !matched && ok && top != "pass" {
				hits = append(hits, hit{ru.Package, ru.Test, top, r.reason[pkg][ru.Test]})
			}
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].Package+hits[i].Test < hits[j].Package+hits[j].Test })
	// One test selected by two rules counts once, and a selected subtest
	// stands for its selected parent.
	out := hits[:0]
	for i, h := range hits {
		if i > 0 && h.Package == hits[i-1].Package && h.Test == hits[i-1].Test {
			continue
		}
		if i+1 < len(hits) && hits[i+1].Package == h.Package && strings.HasPrefix(hits[i+1].Test, h.Test+"/") {
			continue
		}
		out = append(out, h)
	}
	return out, covered
}

// summary is a cell's text.
func summary(hits []hit, covered bool) string {
	if !covered {
		return "—"
	}
	if len(hits) == 0 {
		return "not run"
	}
	n := map[string]int{}
	for _, h := range hits {
		n[h.Outcome]++
	}
	switch {
	case n["fail"] > 0:
		return fmt.Sprintf("**FAIL** (%d of %d)", n["fail"], len(hits))
	case n["pass"] > 0 && n["skip"] > 0:
		return fmt.Sprintf("pass (%d; %d skipped)", n["pass"], n["skip"])
	case n["pass"] > 0:
		return fmt.Sprintf("pass (%d)", n["pass"])
	}
	return "skip"
}

// moduleVersions reads the Azure SDK modules' versions from go.mod.
func moduleVersions(goMod string) [][2]string {
	var out [][2]string
	for _, line := range strings.Split(goMod, "\n") {
		f := strings.Fields(strings.TrimSpace(line))
		if len(f) < 2 {
			continue
		}
		if f[0] == "require" && len(f) >= 3 {
			f = f[1:]
		}
		switch {
		case strings.HasPrefix(f[0], "github.com/Azure/azure-sdk-for-go/sdk/"),
			strings.HasPrefix(f[0], "github.com/AzureAD/microsoft-authentication-library-for-go"):
			name := strings.TrimPrefix(strings.TrimPrefix(f[0], "github.com/Azure/azure-sdk-for-go/sdk/"), "github.com/AzureAD/")
			out = append(out, [2]string{name, f[1]})
		}
	}
	return out
}

func render(r *results, mods [][2]string) string {
	var b strings.Builder
	b.WriteString("<!-- Generated by tools/compatmatrix from the test results. Do not edit: see below to regenerate. -->\n")
	b.WriteString("# Compatibility matrix\n\n")
	b.WriteString("Which official clients work with which of the guide's workflows against Tessera, as the last full run of\n")
	b.WriteString("the compatibility and integration tests found it. This page is generated from those results by\n")
	b.WriteString("[tools/compatmatrix](../tools/compatmatrix/main.go), never written by hand: `bash .ci/run` regenerates it\n")
	b.WriteString("(CI installs every client, so nothing is skipped there), and so does\n\n")
	b.WriteString("```sh\ngo test -count=1 -json ./test/compat/ ./test/integration/ | go run ./tools/compatmatrix -o docs/compatibility.md\n```\n\n")
	b.WriteString("| client | " + strings.Join(workflows, " | ") + " |\n")
	b.WriteString("|---|" + strings.Repeat("---|", len(workflows)) + "\n")
	for _, c := range clients {
		cells := make([]string, len(workflows))
		for i, w := range workflows {
			cells[i] = summary(r.cell(c.Name, w))
		}
		b.WriteString("| " + c.Name + " | " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n`pass (n)`: the n tests selected for the cell passed; `skip`: they were skipped (the client is not\n")
	b.WriteString("installed where they ran); **FAIL**: some failed; `not run`: the run did not include them; `—`: no test\n")
	b.WriteString("covers that pair (the workflow does not apply to the client, or is not tested).\n\n")
	b.WriteString("Clients:\n\n")
	for _, c := range clients {
		fmt.Fprintf(&b, "- **%s**: %s.\n", c.Name, c.About)
	}
	b.WriteString("\n## Versions\n\n")
	if len(r.versions) > 0 {
		labels := make([]string, 0, len(r.versions))
		for l := range r.versions {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		b.WriteString("Reported by the tests:\n\n")
		for _, l := range labels {
			fmt.Fprintf(&b, "- %s %s\n", l, r.versions[l])
		}
		b.WriteString("\n")
	}
	if len(mods) > 0 {
		b.WriteString("Go modules (go.mod):\n\n")
		for _, m := range mods {
			fmt.Fprintf(&b, "- `%s` %s\n", m[0], m[1])
		}
		b.WriteString("\n")
	}
	b.WriteString("## Evidence\n\nThe tests behind each cell (package, test, result).\n")
	for _, c := range clients {
		for _, w := range workflows {
			hits, covered := r.cell(c.Name, w)
			if !covered {
				continue
			}
			fmt.Fprintf(&b, "\n### %s — %s\n\n", c.Name, w)
			if len(hits) == 0 {
				b.WriteString("- not run\n")
			}
			for _, h := range hits {
				fmt.Fprintf(&b, "- %s `%s` %s", h.Outcome, filepath.Base(h.Package), h.Test)
				if h.Reason != "" {
					fmt.Fprintf(&b, " — %s", h.Reason)
				}
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}
