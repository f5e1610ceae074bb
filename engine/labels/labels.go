// Package labels holds the ImageNet-1k class names in the standard index
// order (the sorted WordNet IDs, n01440764 "tench" first), which every
// ShuffleNet V1 family uses.
package labels

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
)

//go:embed imagenet-1k.txt
var imagenet1k string

var parse = sync.OnceValue(func() []string {
	return strings.Split(strings.TrimSuffix(imagenet1k, "\n"), "\n")
})

// ImageNet1K returns the 1000 class names; index i is class i. The slice
// is shared: do not modify it.
func ImageNet1K() []string { return parse() }

// Name returns class i's name, or "class i" when i is out of range.
func Name(i int) string {
	names := parse()
	if i < 0 || i >= len(names) {
		return "class " + strconv.Itoa(i)
	}
	return names[i]
}
