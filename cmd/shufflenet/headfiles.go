package main

import (
	"fmt"
	"io"
	"os"

	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/weights"
)

// readHeadFile reads a head file of at most weights.MaxHeadSize bytes (one
// byte more, so that Decode refuses a larger one by its size).
func readHeadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, weights.MaxHeadSize+1))
}

// loadHead reads and decodes a head file and checks that it was trained
// on the network base describes.
func loadHead(path string, base weights.HeadBase) (*head.Head, error) {
	data, err := readHeadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := weights.DecodeHead(data)
	if err != nil {
		return nil, fmt.Errorf("head %s: %w", path, err)
	}
	if err := f.Matches(base); err != nil {
		if f.Base.Model == base.Model {
			// A checkpoint and the weights file converted from it, say.
			return nil, fmt.Errorf("head %s: %w (a head runs on the very file it was trained on: give that one)", path, err)
		}
		return nil, fmt.Errorf("head %s: %w", path, err)
	}
	return f.Head, nil
}
