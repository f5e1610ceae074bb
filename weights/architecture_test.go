package weights

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine"
)

// publishedArchitectures are the architectures of the seed code and of
// the pretrained families.
func publishedArchitectures(t testing.TB) []engine.Architecture {
	var archs []engine.Architecture
	for _, g := range []int{1, 2, 3, 4, 8} {
		a, err := engine.SeedArchitecture(g)
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, a)
	}
	for _, build := range []func() (engine.Architecture, error){
		func() (engine.Architecture, error) { return engine.MegviiArchitecture(3, 0.5) },
		func() (engine.Architecture, error) { return engine.MegviiArchitecture(8, 1.0) },
		func() (engine.Architecture, error) { return engine.PytorchcvArchitecture(3, 1.0) },
		func() (engine.Architecture, error) { return engine.MMPretrainArchitecture(3) },
	} {
		a, err := build()
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, a)
	}
	return archs
}

// Every field of engine.Architecture survives Encode's encoding/json and
// decodeArchitecture: the published architectures, and one with every
// field set by reflection (a field added to the struct without a case in
// decodeArchitecture is an unknown key there).
func TestDecodeArchitecture(t *testing.T) {
	archs := publishedArchitectures(t)
	var every engine.Architecture
	fillEveryField(reflect.ValueOf(&every).Elem(), new(int))
	archs = append(archs, every)
	for _, a := range archs {
		text, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeArchitecture(string(text))
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if !reflect.DeepEqual(got, a) {
			t.Errorf("decoded %+v\nfrom %s", got, text)
		}
	}
	for _, bad := range []string{`{"groups":3,"extra":1}`, `{"groups":3.5}`, `{"stage_units":[1,2]}`, `{"width":"wide"}`, `{"input":{"mean":[0,0,1e999]}}`, `{"family":"a","family":"b"}`} {
		if _, err := decodeArchitecture(bad); err == nil {
			t.Errorf("decodeArchitecture(%s) accepted", bad)
		}
	}
}

// fillEveryField sets every leaf of v to a distinct value that is not its
// zero value, counting with n.
func fillEveryField(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fillEveryField(v.Field(i), n)
		}
	case reflect.Array:
		for i := range v.Len() {
			fillEveryField(v.Index(i), n)
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(int64(*n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.1)
	case reflect.String:
		v.SetString(strings.Repeat("x", *n))
	default:
		panic("fillEveryField: add a case for " + v.Kind().String())
	}
}

// FuzzArchitecture checks decodeArchitecture against encoding/json on any
// text: it must never accept what encoding/json rejects, nor read it
// differently. (It may reject more: unknown or repeated keys, null, keys
// in another case, text that is not UTF-8.)
func FuzzArchitecture(f *testing.F) {
	for _, a := range publishedArchitectures(f) {
		text, err := json.Marshal(a)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(text))
	}
	f.Add(`{"width": -0.5e-3, "groups": -0, "input": {"mean": [1E2, 0.25, 3], "resize_filter": "bi\u006cinear\ud83d\ude00"}}`)
	f.Fuzz(func(t *testing.T, text string) {
		got, err := decodeArchitecture(text)
		if err != nil {
			return
		}
		var want engine.Architecture
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatalf("decodeArchitecture accepts what encoding/json rejects (%v)", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read %+v, encoding/json reads %+v", got, want)
		}
	})
}
