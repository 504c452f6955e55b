package federation

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzIndexEntries: whatever a followed server's index.txt holds, the
// entries fetched are files of its region's folder, resolved under the
// index's own folder on its own host.
func FuzzIndexEntries(f *testing.F) {
	f.Add([]byte("AA/1-2.zip\nBB/3-4.zip\n"))
	f.Add([]byte("AA/../etc/passwd\nAA//x.zip\n/AA/x.zip\nAA/x.zip?y\r\nhttp://evil/AA/x.zip\n"))
	f.Add([]byte("  AA/1700000000-1700003600.zip  \n\n"))
	base, _ := url.Parse("https://aa.example/exports/index.txt")
	f.Fuzz(func(t *testing.T, index []byte) {
		for _, name := range indexEntries(index, "AA") {
			if !strings.HasPrefix(name, "AA/") || strings.Count(name, "/") != 1 || strings.HasPrefix(name, "AA/.") {
				t.Fatalf("entry %q", name)
			}
			ref, err := url.Parse(name)
			if err != nil {
				t.Fatalf("entry %q: %v", name, err)
			}
			u := base.ResolveReference(ref)
			if u.Host != base.Host || !strings.HasPrefix(u.Path, "/exports/AA/") || u.RawQuery != "" || u.Fragment != "" {
				t.Fatalf("entry %q resolves to %s", name, u)
			}
		}
	})
}
