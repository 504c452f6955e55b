package sim

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
)

var verbRe = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

// TestReportCatalogueComplete: every text of report.html — the
// template's {{t …}} and {{tf …}}, and the literals the Go code passes to
// t, Translate or Translatef — has a Vietnamese entry with the same fmt
// verbs.
func TestReportCatalogueComplete(t *testing.T) {
	keys := map[string]string{powerModelFormat: "powerModelFormat"}
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "t" || id.Ident == "tf") && len(n.Args) >= 3 {
				if s, ok := n.Args[2].(*parse.StringNode); ok {
					keys[s.Text] = "report template"
				}
			}
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		}
	}
	walk(reportTemplate.Tree.Root)
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	textArg := map[string]int{"t": 0, "Translate": 1, "Translatef": 1}
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
			id, ok := call.Fun.(*ast.Ident)
			if !ok {
				return true
			}
			if i, ok := textArg[id.Name]; ok && i < len(call.Args) {
				if lit, ok := call.Args[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					keys[s] = fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
	}
	if len(keys) < 25 {
		t.Fatalf("found only %d texts: the scan is broken", len(keys))
	}
	for key, where := range keys {
		vi, ok := vietnamese[key]
		if !ok {
			t.Errorf("%s: %q has no Vietnamese (add it to sim/texts_vi.go)", where, key)
			continue
		}
		if a, b := verbRe.FindAllString(key, -1), verbRe.FindAllString(vi, -1); !slices.Equal(a, b) {
			t.Errorf("%q → %q: verbs %v, want %v", key, vi, b, a)
		}
	}
}

// TestReportInVietnamese: the report says its language, and its texts and
// battery model are in it.
func TestReportInVietnamese(t *testing.T) {
	r := &Result{People: 10, AppUsers: 5, Days: 2, FullSyncPhones: 1, DailyNew: []int{1, 2}, DailyNewWithoutApp: []int{1, 3}, DailyWarned: []int{0, 1},
		powerModelArgs: []any{11.55, 5.0, 50.0, 15.0, 1.5, "realistic", 1.0}}
	r.PowerModel = Translatef(LanguageEnglish, powerModelFormat, r.powerModelArgs...)
	for _, tt := range []struct{ lang, want, not string }{
		{LanguageVietnamese, `<html lang="vi">`, "New infections per day"},
		{LanguageVietnamese, "pin 11.55 Wh; phát quảng bá BLE 5 mW trong 50% thời gian", "battery 11.55"},
		{LanguageVietnamese, "10 người (5 người dùng ứng dụng) trong 2 ngày", "people"},
		{LanguageEnglish, `<html lang="en">`, "Ca nhiễm"},
		{LanguageEnglish, "battery 11.55 Wh; BLE advertising 5 mW for 50% of the time", "pin 11.55"},
	} {
		var b bytes.Buffer
		if err := WriteHTML(&b, r, tt.lang); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) || strings.Contains(b.String(), tt.not) {
			t.Errorf("report in %s: want %q and not %q in\n%s", tt.lang, tt.want, tt.not, b.String())
		}
	}
	if err := WriteHTML(&bytes.Buffer{}, r, "fr"); err == nil {
		t.Error("a report in French was written")
	}
}
