package sundial_test

import (
	"os/exec"
	"path"
	"strings"
	"testing"
)

const module = "github.com/sundialhq/sundial"

// depRule says what the packages matching pattern (relative to the module;
// "." is the root, "store/*" any direct child) may depend on.
type depRule struct {
	pattern string
	// internal lists the repo packages the matching packages may import,
	// directly or not; "*" allows any.
	internal []string
	// external lists the module path prefixes the matching packages may
	// import directly, besides the standard library; "*" allows any.
	// Transitive third-party dependencies are checked only for packages
	// with noThirdParty.
	external []string
	// noThirdParty forbids any non-standard package outside the repo,
	// even transitively.
	noThirdParty bool
}

// depRules is STYLE.md's dependency-direction table.
var depRules = []depRule{
	{pattern: ".", internal: []string{"cron"}, noThirdParty: true},
	{pattern: "cron", noThirdParty: true},
	{pattern: "store/sqlitestore", internal: []string{".", "cron"}, external: []string{"modernc.org/sqlite"}},
	{pattern: "store/pgstore", internal: []string{".", "cron"}, external: []string{"github.com/jackc/pgx/v5"}},
	{pattern: "store/redisstore", internal: []string{".", "cron"}, external: []string{"github.com/redis/go-redis/v9"}},
	{pattern: "lock/pglock", internal: []string{}, external: []string{"github.com/jackc/pgx/v5"}},
	{pattern: "lock/redislock", internal: []string{}, external: []string{"github.com/redis/go-redis/v9"}},
	{pattern: "store/storetest", internal: []string{".", "cron"}, noThirdParty: true},
	{pattern: "sundialtest", internal: []string{".", "cron"}, noThirdParty: true},
	{pattern: "executor", internal: []string{".", "cron"}, noThirdParty: true},
	{pattern: "metrics", internal: []string{".", "cron"}, external: []string{"github.com/prometheus/"}},
	{pattern: "alert", internal: []string{".", "cron"}, noThirdParty: true},
	{pattern: "httpapi", internal: []string{".", "cron"}, noThirdParty: true},
	{pattern: "dashboard", internal: []string{".", "cron", "httpapi"}, noThirdParty: true},
	{pattern: "internal/testenv", noThirdParty: true},
	{pattern: "cmd/*", internal: []string{"*"}, external: []string{"*"}},
	{pattern: "examples/*", internal: []string{"*"}, external: []string{"*"}},
}

type listedPkg struct {
	path    string // relative to the module; "." for the root
	imports []string
	deps    []string
}

// TestDependencyDirection enforces STYLE.md's table with go list -deps: the
// root imports no third-party module, cron only the standard library, stores
// none of each other, and so on. A new package needs a rule here.
func TestDependencyDirection(t *testing.T) {
	pkgs, std := goList(t)
	for _, p := range pkgs {
		r, ok := ruleFor(p.path)
		if !ok {
			t.Errorf("package %s has no dependency rule; add one to depRules", p.path)
			continue
		}
		for _, d := range p.deps {
			if bad := r.violation(d, std[d]); bad != "" {
				t.Errorf("%s depends on %s: %s", p.path, d, bad)
			}
		}
		for _, d := range p.imports {
			if !std[d] && !strings.HasPrefix(d, module) && !r.allowsExternal(d) {
				t.Errorf("%s imports %s: not its one client library", p.path, d)
			}
		}
	}
}

func (r depRule) violation(dep string, standard bool) string {
	if standard {
		return ""
	}
	if rel, ok := relPath(dep); ok {
		if allowed(r.internal, rel) {
			return ""
		}
		return "repo package not allowed by the dependency table"
	}
	if r.noThirdParty {
		return "third-party module not allowed here"
	}
	return ""
}

func (r depRule) allowsExternal(imp string) bool {
	for _, e := range r.external {
		if e == "*" || strings.HasPrefix(imp, e) {
			return true
		}
	}
	return false
}

func allowed(list []string, rel string) bool {
	for _, a := range list {
		if a == "*" || a == rel {
			return true
		}
	}
	return false
}

func ruleFor(rel string) (depRule, bool) {
	for _, r := range depRules {
		if ok, _ := path.Match(r.pattern, rel); ok || r.pattern == rel {
			return r, true
		}
	}
	return depRule{}, false
}

func relPath(imp string) (string, bool) {
	if imp == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(imp, module+"/")
	return rel, ok
}

// goList returns the module's packages and the set of standard packages
// among all their dependencies.
func goList(t *testing.T) ([]listedPkg, map[string]bool) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps",
		"-f", "{{.ImportPath}}|{{.Standard}}|{{join .Imports \",\"}}|{{join .Deps \",\"}}",
		"./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	std := map[string]bool{}
	var pkgs []listedPkg
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		std[f[0]] = f[1] == "true"
		if rel, ok := relPath(f[0]); ok {
			pkgs = append(pkgs, listedPkg{path: rel, imports: splitList(f[2]), deps: splitList(f[3])})
		}
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages of the module")
	}
	return pkgs, std
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// TestDepRulesCatch shows the rules refuse what the table forbids, so the
// test above cannot pass by accident.
func TestDepRulesCatch(t *testing.T) {
	tests := []struct {
		pkg, dep string
		standard bool
		bad      bool
	}{
		{".", "net/http", true, false},
		{".", "github.com/jackc/pgx/v5", false, true},
		{".", module + "/store/pgstore", false, true},
		{"cron", module, false, true},
		{"cron", "golang.org/x/text", false, true},
		{"store/pgstore", module + "/store/redisstore", false, true},
		{"store/pgstore", module, false, false},
		{"httpapi", module + "/store/sqlitestore", false, true},
		{"cmd/sundial", module + "/store/pgstore", false, false},
	}
	for _, tt := range tests {
		r, ok := ruleFor(tt.pkg)
		if !ok {
			t.Fatalf("no rule for %s", tt.pkg)
		}
		if got := r.violation(tt.dep, tt.standard) != ""; got != tt.bad {
			t.Errorf("%s -> %s: violation = %v, want %v", tt.pkg, tt.dep, got, tt.bad)
		}
	}
	if r, _ := ruleFor("store/pgstore"); r.allowsExternal("github.com/redis/go-redis/v9") {
		t.Error("pgstore may import go-redis, want refused")
	}
	if _, ok := ruleFor("newpkg"); ok {
		t.Error("a package without a rule matched one")
	}
}
