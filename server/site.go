package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Static hosts (Cloudflare's Workers static assets and Pages, Netlify)
// serve a folder of files and read their response headers from a _headers
// file in it. WriteSite lays prepared assets out that way, so that such a
// host serves the site under the same names and with the same headers as
// Handler does, the headers coming from the same code (Asset.Headers).

// headersFile is the file static hosts read header rules from; they do not
// serve it.
const headersFile = "_headers"

// Cloudflare's limits on a _headers file: rules (a URL and its headers)
// and characters a line. Wrangler refuses a file over them.
const (
	maxHeaderRules = 100
	maxHeaderLine  = 2000
)

// WriteSite writes assets into dir: each file under its path and its
// content-hashed name, and a _headers file that gives every URL a static
// host may serve a file at the headers Handler sends with it. dir must be
// empty or absent, so that nothing is overwritten and no stale hashed
// files pile up between builds.
func WriteSite(dir string, sets ...*Assets) error {
	if err := makeEmptyDir(dir); err != nil {
		return err
	}
	var rules []headerRule
	seen := map[string]bool{}
	for _, set := range sets {
		for _, a := range set.List() {
			for _, p := range []string{a.Path, a.HashedPath} {
				if p == "" {
					continue
				}
				if err := writeSiteFile(dir, p, a.Body); err != nil {
					return err
				}
			}
			for _, u := range siteURLs(a) {
				if seen[u] {
					return fmt.Errorf("write site: two files are served at %s", u)
				}
				seen[u] = true
				rules = append(rules, headerRule{url: u, asset: a})
			}
		}
	}
	text, err := headerRules(rules)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, headersFile), []byte(text), 0o644); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	return nil
}

// makeEmptyDir creates dir, or checks that it is empty.
func makeEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write site: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("write site: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("write site: %s is not empty", dir)
	}
	return nil
}

// writeSiteFile writes body at URL path p under dir.
func writeSiteFile(dir, p string, body []byte) error {
	rel := filepath.FromSlash(strings.TrimPrefix(p, "/"))
	if !filepath.IsLocal(rel) || rel == headersFile {
		return fmt.Errorf("write site: refusing to write %q", p)
	}
	name := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	if err := os.WriteFile(name, body, 0o644); err != nil {
		return fmt.Errorf("write site: %w", err)
	}
	return nil
}

// siteURLs lists the URLs a static host may serve the asset at: its path
// and hashed name and, for a page, the "pretty" URLs hosts prefer (Workers
// static assets serve /a.html at /a and /d/index.html at /d/, and redirect
// the others there).
func siteURLs(a *Asset) []string {
	urls := []string{a.Path}
	if a.HashedPath != "" {
		urls = append(urls, a.HashedPath)
	}
	if isHTML(a.Path) {
		if path.Base(a.Path) == "index.html" {
			urls = append(urls, strings.TrimSuffix(a.Path, "index.html"))
		} else {
			urls = append(urls, strings.TrimSuffix(a.Path, ".html"))
		}
	}
	return urls
}

// headerRule is one rule of a _headers file: the headers of a URL.
type headerRule struct {
	url   string
	asset *Asset
}

// headerRules formats rules, sorted by URL, as a _headers file. Each URL
// has exactly one rule, with all its headers: hosts apply every rule that
// matches and join repeated headers with commas, so rules must not overlap.
func headerRules(rules []headerRule) (string, error) {
	if len(rules) > maxHeaderRules {
		return "", fmt.Errorf("write site: %d header rules, over static hosts' limit of %d", len(rules), maxHeaderRules)
	}
	slices.SortFunc(rules, func(a, b headerRule) int { return strings.Compare(a.url, b.url) })
	var b strings.Builder
	b.WriteString("# Written by shufflenet export (server.WriteSite): the headers 'shufflenet serve' sends.\n")
	for _, r := range rules {
		if strings.ContainsAny(r.url, "*: \t\n") {
			return "", fmt.Errorf("write site: %q cannot be written as a _headers rule", r.url)
		}
		b.WriteString(r.url + "\n")
		h := r.asset.Headers(r.url)
		for _, name := range slices.Sorted(maps.Keys(h)) {
			line := "  " + name + ": " + h.Get(name)
			if len(line) > maxHeaderLine {
				return "", fmt.Errorf("write site: header %s of %s is over %d characters", name, r.url, maxHeaderLine)
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String(), nil
}

// ModelListAssets is the model list as the file /models.json, for
// WriteSite: in an exported site the page and the widget read it there, so
// that a plain static server, with no /api routes, serves all they need.
// Its bytes are what /api/models answers.
func ModelListAssets(list ModelList) (*Assets, error) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(list); err != nil {
		return nil, fmt.Errorf("model list: %w", err)
	}
	return prepareFiles(map[string][]byte{"/models.json": b.Bytes()})
}
