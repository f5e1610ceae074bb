package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/internal/shared"
	"github.com/shufflenet-go/shufflenet/weights"
)

// catHead is a head of two classes, "a cat" and "a cup", trained on the
// features megvii-g3-0.5x gives chelsea.png and coffee.png, for that
// model (or, with sha256 set, for another).
func catHead(t testing.TB, sha256 string) []byte {
	t.Helper()
	s := catServer(t, Limits{})
	m, _ := s.models.Get("")
	var samples []head.Sample
	for class, photo := range []string{"chelsea.png", "coffee.png"} {
		input, err := preprocess.Tensor(context.Background(), shared.Read(t, "images/"+photo), m.arch.Input, preprocess.DefaultMaxPixels)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.base.Forward(input); err != nil {
			t.Fatal(err)
		}
		f, err := m.base.Features()
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, head.Sample{Features: slices.Clone(f), Class: class})
	}
	h, err := head.Train([]string{"a cat", "a cup"}, samples, head.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := m.headBase()
	if sha256 != "" {
		base.SHA256 = sha256
	}
	data, err := weights.EncodeHead(weights.HeadFile{Base: base, Head: h})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// headServer serves testSite and the real Megvii g3 0.5x with catHead.
func headServer(t testing.TB, limits Limits) *Server {
	t.Helper()
	static, err := PrepareAssets(testSite)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Static: static, Weights: megviiWeights(t), Heads: map[string][]byte{"pets.json": catHead(t, "")}, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A model with a head answers with the head's classes, unless asked for
// ImageNet's; /api/models says which model has a head and its classes.
func TestClassifyWithHead(t *testing.T) {
	plain, h := catServer(t, Limits{}).Handler(), headServer(t, Limits{}).Handler()
	cat := shared.Read(t, "images/chelsea.png")
	for _, c := range []struct {
		name    string
		handler bool
		path    string
		classes string
		labels  []string
	}{
		{"the head by default", true, "/api/classify", "head", []string{"a cat", "a cup"}},
		{"the head when asked", true, "/api/classify?classes=head&top=1", "head", []string{"a cat"}},
		{"ImageNet's when asked", true, "/api/classify?classes=imagenet&top=1", "imagenet", []string{"Egyptian cat"}},
		{"a model without a head", false, "/api/classify?top=1", "imagenet", []string{"Egyptian cat"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			hd := plain
			if c.handler {
				hd = h
			}
			r, v := post(t, hd, c.path, "image/png", cat)
			var labels []string
			top, _ := v["top"].([]any)
			for _, p := range top {
				labels = append(labels, p.(map[string]any)["label"].(string))
			}
			if r.StatusCode != 200 || v["classes"] != c.classes || v["model"] != "megvii-g3-0.5x" || !slices.Equal(labels, c.labels) {
				t.Errorf("%d %v, want classes %q answering %v", r.StatusCode, v, c.classes, c.labels)
			}
		})
	}

	var list ModelList
	if err := json.Unmarshal(body(t, get(t, h, "/api/models")), &list); err != nil {
		t.Fatal(err)
	}
	if hi := list.Models[0].Head; hi == nil || hi.File != "pets.json" || !slices.Equal(hi.Classes, []string{"a cat", "a cup"}) {
		t.Errorf("/api/models says the head is %+v", hi)
	}
	if file := body(t, get(t, h, "/models.json")); !bytes.Contains(file, []byte(`"head":{"file":"pets.json","classes":["a cat","a cup"]}`)) {
		t.Errorf("/models.json is %s", file)
	}
	if bytes.Contains(body(t, get(t, plain, "/api/models")), []byte(`"head"`)) {
		t.Error("/api/models names a head for a model without one")
	}

	// The classes parameter is checked before the upload is read, as top is.
	for _, c := range []struct {
		handler bool
		path    string
	}{{true, "/api/classify?classes=ImageNet"}, {true, "/api/classify?classes=all"}, {false, "/api/classify?classes=head"}} {
		hd := plain
		if c.handler {
			hd = h
		}
		r, v := post(t, hd, c.path, "image/png", []byte("not read"))
		if msg, _ := v["error"].(string); r.StatusCode != 400 || !strings.Contains(msg, "classes") {
			t.Errorf("%s: %d %v", c.path, r.StatusCode, v)
		}
	}
}

// A head that matches no served model, one that is not a head file, and a
// second head for a model keep the server from starting, with an error
// that says why.
func TestHeadErrors(t *testing.T) {
	good := catHead(t, "")
	for _, c := range []struct {
		name  string
		heads map[string][]byte
		want  []string
	}{
		{"another model's", map[string][]byte{"other.json": catHead(t, strings.Repeat("0", 64))},
			[]string{"head other.json", weights.ErrHeadMismatch.Error(), "trained on megvii-g3-0.5x (sha256 000000000000…", "served are megvii-g3-0.5x (sha256 "}},
		{"not a head file", map[string][]byte{"notes.json": []byte(`{"format": "notes"}`)}, []string{"head notes.json", weights.ErrHeadFormat.Error()}},
		{"two for one model", map[string][]byte{"a.json": good, "b.json": good}, []string{"head b.json: model megvii-g3-0.5x already has the head a.json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(Config{Weights: megviiWeights(t), Heads: c.heads})
			if err == nil {
				t.Fatal("the server started")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want it to say %q", err, w)
				}
			}
		})
	}
	if _, err := New(Config{Weights: tinyWeights(t), Heads: map[string][]byte{"pets.json": good}}); !errors.Is(err, weights.ErrHeadMismatch) || !strings.Contains(err.Error(), "served are tiny (") {
		t.Errorf("a head for a model not served: %v", err)
	}
}
