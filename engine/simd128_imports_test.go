package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/internal/simd128/abi"
)

// The engine declares the SIMD128 kernels it calls by hand, with
// //go:wasmimport directives (simd128_calls_wasm.go), and nothing checks
// them when the wasm build links: the host passes the arguments on to the
// kernel module as they come. So this test reads the declarations as
// source, under any GOOS, and checks each against the export abi defines
// and the generator writes (internal/simd128's TestModuleMatchesABI
// checks that side): the name, and each parameter's name, Go type and
// place.
func TestSIMD128ImportsMatchABI(t *testing.T) {
	imports := simd128Imports(t)
	exports := map[string]abi.Func{}
	all := append(slices.Clip(abi.Exports), abi.FusedExports...)
	for _, e := range all {
		exports[e.Name] = e
	}
	for _, name := range slices.Sorted(maps.Keys(imports)) {
		decls := imports[name]
		if len(decls) != 1 {
			t.Errorf("%s is declared %d times", name, len(decls))
		}
		decl := decls[0]
		if name == abi.Instantiate { // the host's own: instantiate() int32
			if decl.Type.Params.NumFields() != 0 || decl.Type.Results.NumFields() != 1 ||
				types.ExprString(decl.Type.Results.List[0].Type) != "int32" {
				t.Errorf("%s is %s, want func() int32", name, types.ExprString(decl.Type))
			}
			continue
		}
		e, ok := exports[name]
		if !ok {
			t.Errorf("%s (%s) is not an export of the kernel module (abi.Exports, abi.FusedExports)", decl.Name.Name, name)
			continue
		}
		if decl.Type.Results.NumFields() != 0 {
			t.Errorf("%s returns %s; the kernels return nothing", name, types.ExprString(decl.Type.Results.List[0].Type))
		}
		if got, want := goParams(decl), wantParams(e); !slices.Equal(got, want) {
			t.Errorf("%s's parameters are\n\t%s\nabi's export %s has\n\t%s", decl.Name.Name, strings.Join(got, ", "), name, strings.Join(want, ", "))
		}
	}
	for _, e := range all {
		if _, ok := imports[e.Name]; !ok {
			t.Errorf("the export %s is not declared with //go:wasmimport %s %s", e.Name, abi.HostModule, e.Name)
		}
	}
	if _, ok := imports[abi.Instantiate]; !ok {
		t.Errorf("%s is not declared", abi.Instantiate)
	}
}

// simd128Imports finds the functions the engine's source files (of every
// build) declare with //go:wasmimport in abi.HostModule, by the name they
// import.
func simd128Imports(t *testing.T) map[string][]*ast.FuncDecl {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string][]*ast.FuncDecl{}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			decl, ok := d.(*ast.FuncDecl)
			if !ok || decl.Doc == nil {
				continue
			}
			for _, c := range decl.Doc.List {
				directive, ok := strings.CutPrefix(c.Text, "//go:wasmimport ")
				if !ok {
					continue
				}
				module, name, _ := strings.Cut(strings.TrimSpace(directive), " ")
				if module == abi.HostModule {
					imports[name] = append(imports[name], decl)
				}
			}
		}
	}
	if len(imports) == 0 {
		t.Fatalf("no //go:wasmimport %s directives in %d files", abi.HostModule, len(files))
	}
	return imports
}

// goParams lists decl's parameters as "name wasmtype address|count", as
// Go passes them: an unsafe.Pointer is an address, an int32 a count or a
// code, both i32.
func goParams(decl *ast.FuncDecl) []string {
	var params []string
	for _, field := range decl.Type.Params.List {
		goType := types.ExprString(field.Type)
		desc := goType + " (no wasm type the kernels take)"
		switch goType {
		case "unsafe.Pointer":
			desc = abi.I32.String() + " address"
		case "int32":
			desc = abi.I32.String() + " count"
		}
		for _, n := range field.Names {
			params = append(params, n.Name+" "+desc)
		}
	}
	return params
}

// wantParams lists e's parameters as goParams does.
func wantParams(e abi.Func) []string {
	params := make([]string, len(e.Params))
	for i, p := range e.Params {
		kind := "count"
		if p.Address {
			kind = "address"
		}
		params[i] = p.Name + " " + p.Type.String() + " " + kind
	}
	return params
}
