package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
	"time"

	"github.com/bluezone-vn/bluezone/risk"
)

// catalogueKeys collects every English text the portal may show, with
// where it comes from: the literal strings of {{t …}} and {{tf …}} in the
// templates, those passed to translate, translatef, problemf and
// errorPage in server/*.go, and the texts that reach translate from tables
// (risk.Fields' labels, the settings page's sections, risk.Validate's
// problems, the status texts of error pages).
func catalogueKeys(t *testing.T) map[string]string {
	t.Helper()
	keys := map[string]string{}
	add := func(key, where string) {
		if _, ok := keys[key]; !ok && hasWords(key) {
			keys[key] = where
		}
	}
	for _, tmpl := range parseTemplates(time.UTC).Templates() {
		if tmpl.Tree == nil {
			continue
		}
		walkTemplate(tmpl.Tree.Root, func(c *parse.CommandNode) {
			if id, ok := c.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "t" || id.Ident == "tf") && len(c.Args) >= 3 {
				if s, ok := c.Args[2].(*parse.StringNode); ok {
					add(s.Text, "template "+tmpl.Name())
				}
			}
		})
	}
	// The argument that is the text, by function (methods by their name).
	textArg := map[string]int{"translate": 1, "translatef": 1, "problemf": 0, "errorPage": 3, "page": 1, "resetPage": 4, "loginPage": 3, "totpLoginPage": 3}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var fn string
			switch f := call.Fun.(type) {
			case *ast.Ident:
				fn = f.Name
			case *ast.SelectorExpr:
				fn = f.Sel.Name
			}
			i, ok := textArg[fn]
			if !ok || i >= len(call.Args) {
				return true
			}
			if lit, ok := call.Args[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				add(s, fset.Position(lit.Pos()).String())
			}
			return true
		})
	}
	for _, f := range risk.Fields() {
		add(f.Label, "risk.Fields")
	}
	for _, sec := range settingsSections {
		add(sec.title, "settingsSections")
		add(sec.help, "settingsSections")
	}
	for _, rt := range reportTypeNames {
		add(rt.name, "reportTypeNames")
	}
	for _, inf := range infectiousnessNames {
		add(inf.name, "infectiousnessNames")
	}
	for _, c := range brokenRiskConfigs() {
		for _, fe := range risk.FieldErrors(c.Validate()) {
			add(fe.Label, "risk.Validate")
			walkText(fe.Problem, func(format string) { add(format, "risk.Validate") })
		}
	}
	for _, f := range risk.Fields() {
		add(f.WantText().Format, "risk.Field.Want")
		add(f.CheckText(f.Max+1).Format, "risk.Field.Check")
	}
	for _, st := range errorStatuses {
		add(http.StatusText(st), "errorPage status")
	}
	return keys
}

// errorStatuses are the statuses errorPage answers with.
var errorStatuses = []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
	http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusInternalServerError}

// brokenRiskConfigs break every rule risk.Validate checks, so that each of
// its messages is asked of the catalogue.
func brokenRiskConfigs() []risk.Config {
	var out []risk.Config
	for _, change := range []func(*risk.Config){
		func(c *risk.Config) { c.AttenuationThresholds = [3]int{70, 60, 50} },
		func(c *risk.Config) { c.AttenuationKind = "max" },
		func(c *risk.Config) { c.DayLowScore = c.MinutesThreshold + 1 },
		func(c *risk.Config) { c.WindowMinScore, c.WindowHighScore = 10, 5 },
		func(c *risk.Config) { c.DaysSinceOnsetInfectiousness = c.DaysSinceOnsetInfectiousness[:3] },
		func(c *risk.Config) { c.DaysSinceOnsetInfectiousness[0], c.DaysSinceOnsetInfectiousness[1] = 3, 4 },
		func(c *risk.Config) {
			c.CombinedWeights = []risk.CombinedWeight{{ReportType: 9, Infectiousness: 7, Weight: 11}, {ReportType: 9, Infectiousness: 7, Weight: 1}}
		},
		func(c *risk.Config) { c.Calibration = map[string]risk.Calibration{"Pixel 3": {RSSICorrection: 50}} },
		func(c *risk.Config) { c.MinutesThreshold, c.MaxScanSeconds = -1, 0 },
	} {
		c := risk.DefaultConfig()
		change(&c)
		if c.Validate() == nil {
			panic("a broken configuration validates")
		}
		out = append(out, c)
	}
	return out
}

func walkText(x risk.Text, f func(format string)) {
	f(x.Format)
	for _, a := range x.Args {
		if y, ok := a.(risk.Text); ok {
			walkText(y, f)
		}
	}
}

func walkTemplate(n parse.Node, f func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walkTemplate(c, f)
			}
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, f)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walkTemplate(c, f)
			}
		}
	case *parse.CommandNode:
		f(n)
		for _, a := range n.Args {
			walkTemplate(a, f)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		walkTemplate(n.Pipe, f)
	}
}

func walkBranch(b *parse.BranchNode, f func(*parse.CommandNode)) {
	walkTemplate(b.Pipe, f)
	walkTemplate(b.List, f)
	walkTemplate(b.ElseList, f)
}

var wordRe = regexp.MustCompile(`\p{L}{2,}`)

func hasWords(s string) bool { return wordRe.MatchString(s) }

var verbRe = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

// TestCatalogueComplete: every English text the portal shows has a
// Vietnamese translation, with the same fmt verbs in the same order. A new
// page's {{t $.Lang "…"}} or translate(lang, "…") fails here until its
// text is in i18n_vi.go.
func TestCatalogueComplete(t *testing.T) {
	keys := catalogueKeys(t)
	if len(keys) < 100 {
		t.Fatalf("found only %d texts: the scan is broken", len(keys))
	}
	var missing []string
	for key, where := range keys {
		vi, ok := vietnamese[key]
		if !ok {
			missing = append(missing, where+": "+strconv.Quote(key))
			continue
		}
		if a, b := verbRe.FindAllString(key, -1), verbRe.FindAllString(vi, -1); !slices.Equal(a, b) {
			t.Errorf("%q → %q: verbs %v, want %v", key, vi, b, a)
		}
		if strings.TrimSpace(vi) == "" {
			t.Errorf("%q has an empty translation", key)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d texts without Vietnamese (add them to server/i18n_vi.go):\n%s", len(missing), strings.Join(missing, "\n"))
	}
	for key := range vietnamese {
		if _, ok := keys[key]; !ok {
			t.Logf("catalogue entry no page uses: %q", key)
		}
	}
}

// TestTemplatesHaveNoBareText: the words of a page go through {{t …}}:
// template text outside actions, tags and attributes has no words, except
// names that are the same in every language.
func TestTemplatesHaveNoBareText(t *testing.T) {
	tags := regexp.MustCompile(`<[^>]*>`)
	same := map[string]bool{"Bluezone": true, "English": true, "Tiếng Việt": true}
	for _, tmpl := range parseTemplates(time.UTC).Templates() {
		if tmpl.Tree == nil {
			continue
		}
		var text strings.Builder
		var walk func(parse.Node)
		walk = func(n parse.Node) {
			switch n := n.(type) {
			case *parse.ListNode:
				if n != nil {
					for _, c := range n.Nodes {
						walk(c)
					}
				}
			case *parse.TextNode:
				text.Write(n.Text)
			case *parse.IfNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.RangeNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.WithNode:
				walk(n.List)
				walk(n.ElseList)
			}
			text.WriteString(" ")
		}
		walk(tmpl.Tree.Root)
		// Tags may be cut by actions ({{if …}} inside <option …>): drop
		// what remains of them too.
		rest := regexp.MustCompile(`(?is)<(style|script|code|pre)\b.*?</(style|script|code|pre)>`).ReplaceAllString(text.String(), " ")
		rest = tags.ReplaceAllString(rest, " ")
		rest = regexp.MustCompile(`<[^>]*$|^[^<]*>`).ReplaceAllString(rest, " ")
		for _, line := range strings.Split(rest, "\n") {
			line = regexp.MustCompile(`[^\s<>]*>|<[^\s<>]*`).ReplaceAllString(line, " ")
			for _, w := range []string{"Tiếng Việt", "Bluezone", "English"} {
				if same[w] {
					line = strings.ReplaceAll(line, w, "")
				}
			}
			for _, f := range strings.Fields(line) {
				if hasWords(f) && !strings.ContainsAny(f, "/=\"") {
					t.Errorf("template %s: %q is not translated: write {{t $.Lang %q}}", tmpl.Name(), strings.TrimSpace(line), strings.TrimSpace(line))
					break
				}
			}
		}
	}
}

func TestRequestLang(t *testing.T) {
	tests := []struct {
		name, cookie, accept, want string
	}{
		{"nothing: the deployment's Vietnamese", "", "", langVietnamese},
		{"English browser", "", "en-US,en;q=0.9", langEnglish},
		{"Vietnamese browser", "", "vi-VN,vi;q=0.9,en;q=0.8", langVietnamese},
		{"English preferred over Vietnamese", "", "en-GB,vi;q=0.5", langEnglish},
		{"Vietnamese preferred over English", "", "fr,vi;q=0.7,en;q=0.5", langVietnamese},
		{"a language the portal lacks", "", "fr-FR,fr;q=0.9", langVietnamese},
		{"a language the portal lacks, then English", "", "fr-FR,en;q=0.5", langEnglish},
		{"malformed header", "", ";;;q=x", langVietnamese},
		{"the switch's choice beats the browser", "vi", "en-US", langVietnamese},
		{"the switch's English", "en", "vi", langEnglish},
		{"a cookie value the portal lacks", "fr", "en", langEnglish},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/portal/login", nil)
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: langCookie, Value: tt.cookie})
			}
			if got := requestLang(r); got != tt.want {
				t.Errorf("requestLang = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBackTo: the switch returns only to this server's portal.
func TestBackTo(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/portal/codes", "/portal/codes"},
		{"/portal/bootstrap?token=abc", "/portal/bootstrap?token=abc"},
		{"/portal/", "/portal/"},
		{"/portal", "/portal/"},
		{"", "/portal/"},
		{"https://evil.example/portal/", "/portal/"},
		{"//evil.example/portal/", "/portal/"},
		{"/\\evil.example", "/portal/"},
		{"/exports/index.txt", "/portal/"},
		{"javascript:alert(1)", "/portal/"},
		{"/portal/\r\nSet-Cookie: x=1", "/portal/"},
	}
	for _, tt := range tests {
		if got := backTo(tt.in); got != tt.want {
			t.Errorf("backTo(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTranslatefTranslatesArguments: texts inside texts are translated too.
func TestTranslatefTranslatesArguments(t *testing.T) {
	c := risk.DefaultConfig()
	c.MinutesThreshold = 0
	got := localizeProblems(langVietnamese, c.Validate())
	want := vietnamese["Weighted minutes in a day for a warning (high risk)"] + ": " +
		strings.Replace(strings.Replace(strings.Replace(vietnamese["enter a number between %s and %s, not %s"], "%s", "1", 1), "%s", "1440", 1), "%s", "0", 1)
	if len(got) != 1 || got[0] != want {
		t.Errorf("problems in Vietnamese %q, want [%q]", got, want)
	}
	if en := localizeProblems(langEnglish, c.Validate()); len(en) != 1 || en[0] != risk.Problems(c.Validate())[0] {
		t.Errorf("problems in English %q, want risk.Problems' %q", en, risk.Problems(c.Validate()))
	}
}
