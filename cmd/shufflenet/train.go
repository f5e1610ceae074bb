package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shufflenet-go/shufflenet/engine"
	"github.com/shufflenet-go/shufflenet/engine/crop"
	"github.com/shufflenet-go/shufflenet/engine/head"
	"github.com/shufflenet-go/shufflenet/engine/preprocess"
	"github.com/shufflenet-go/shufflenet/weights"
)

// maxTrainImages bounds the images train reads. More is an error,
// before anything is decoded, rather than a cap: a subset chosen here would
// quietly change what the head learns. Only features are kept, one
// FeatureChannels float32 vector a sample (480 values, 1.9 KB, for
// megvii-g3-0.5x; 1,536 for g8 1x), and each image is decoded, cropped and
// let go in turn, so 10,000 images hold 19 MB of features for
// megvii-g3-0.5x (115 MB with --augment's 6 crops each), and head.Train
// takes 3 to 6 s on them at 10 classes (6 times that with --augment;
// BenchmarkTrain's 10x1000x480 times 10).
const maxTrainImages = 10_000

// augmentedCrops is how many crops --augment trains on per training
// image, its centre crop included (see augment).
const augmentedCrops = 6

func runTrain(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	var model modelFlags
	model.register(fs)
	out := fs.String("out", "", "head file to write (JSON; replaced whole if it exists)")
	holdout := fs.Float64("holdout", 0.2, "fraction of each class's images held out to measure accuracy, from 0 to below 1")
	augment := fs.Bool("augment", false, "also train on 5 more crops of each training image: mirrored, zoomed in, zoomed out, shifted up-left and down-right")
	epochs := fs.Int("epochs", head.DefaultEpochs, "full passes over the training samples")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: shufflenet train (--weights FILE | --checkpoint PATH [--family F]) --out FILE [--holdout F] [--augment] [--epochs N] DIR")
		fmt.Fprintln(fs.Output(), "\nDIR holds one folder of images per class; the folders' names, sorted, are the classes.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 1:
		return usagef("train: give one folder of class folders (after the flags)")
	case *out == "":
		return usagef("train: give --out FILE")
	case !(*holdout >= 0 && *holdout < 1):
		return usagef("train: --holdout %g: give a fraction from 0 to below 1", *holdout)
	case *epochs < 1:
		return usagef("train: --epochs must be at least 1")
	case !model.given():
		return usagef("train: no model: give --weights or --checkpoint")
	}
	if err := checkOutput(*out); err != nil {
		return err
	}
	folder, err := readTrainFolder(fs.Arg(0), maxTrainImages, os.Stderr)
	if err != nil {
		return err
	}
	net, base, err := model.loadWithBase()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s: %d features\n", base.Model, base.Features)
	ex, err := extractFeatures(net, folder, *holdout, *augment, os.Stderr)
	if err != nil {
		return err
	}
	ex.describe(stdout, folder, *augment)

	step := max(*epochs/10, 1)
	start := time.Now()
	h, err := head.Train(folder.classes, ex.train, head.Options{Epochs: *epochs, Progress: func(epoch, epochs int, loss float64) {
		if epoch == 1 || epoch%step == 0 || epoch == epochs {
			fmt.Fprintf(stdout, "epoch %*d/%d  loss %.4f\n", len(fmt.Sprint(epochs)), epoch, epochs, loss)
		}
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "trained in %.2f s\n", time.Since(start).Seconds())
	right, err := correct(h, ex.train)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "train accuracy: %.3f (%d of %d samples)\n", float64(right)/float64(len(ex.train)), right, len(ex.train))
	if len(ex.heldOut) == 0 {
		fmt.Fprintln(stdout, "held-out accuracy: none held out")
	} else {
		if right, err = correct(h, ex.heldOut); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "held-out accuracy: %.3f (%d of %d images)\n", float64(right)/float64(len(ex.heldOut)), right, len(ex.heldOut))
	}

	data, err := weights.EncodeHead(weights.HeadFile{Base: base, Head: h})
	if err != nil {
		return err
	}
	if err := weights.WriteFileAtomic(*out, data); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d classes on %s, %d bytes\n", *out, len(h.Classes), base.Model, len(data))
	return nil
}

// checkOutput checks, before any work, that a file can be written at path:
// its folder exists and path is not a folder.
func checkOutput(path string) error {
	if info, err := os.Stat(filepath.Dir(path)); err != nil {
		return fmt.Errorf("train: --out %s: %w", path, err)
	} else if !info.IsDir() {
		return fmt.Errorf("train: --out %s: %s is not a folder", path, filepath.Dir(path))
	}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("train: --out %s is a folder", path)
	}
	return nil
}

// trainFolder is train's input, laid out as torchvision's ImageFolder
// reads it: a folder per class, its name the class's.
type trainFolder struct {
	classes []string   // the class folders' names, sorted: the head's classes
	files   [][]string // each class's files, sorted by name
}

// readTrainFolder lists dir's class folders and their images (the files
// named as images, see imageExtensions), and checks them before anything
// is decoded: at least 2 classes (and at most head.MaxClasses), each
// folder's name a class name head.CheckName accepts, no class without
// images, at most maxImages images in all. Names starting with "."
// are skipped; files beside the class folders, and other files and
// folders inside them, are skipped with a note on notes. Symbolic links
// are followed.
func readTrainFolder(dir string, maxImages int, notes io.Writer) (trainFolder, error) {
	var folder trainFolder
	if info, err := os.Stat(dir); err != nil {
		return folder, fmt.Errorf("train: %w", err)
	} else if !info.IsDir() {
		return folder, fmt.Errorf("train: %s is not a folder: give a folder holding a folder of images per class", dir)
	}
	top, err := listFolder(dir)
	if err != nil {
		return folder, fmt.Errorf("train: %w", err)
	}
	total := 0
	for _, e := range top {
		if !e.dir {
			fmt.Fprintf(notes, "shufflenet: note: skipping %s: not a folder (each class is a folder of images)\n", e.path)
			continue
		}
		if err := head.CheckName(e.name); err != nil {
			return folder, fmt.Errorf("train: class folder %s: %w", e.path, err)
		}
		entries, err := listFolder(e.path)
		if err != nil {
			return folder, fmt.Errorf("train: %w", err)
		}
		var files, others []string
		for _, f := range entries {
			switch {
			case f.dir:
				fmt.Fprintf(notes, "shufflenet: note: skipping %s: a folder inside a class folder\n", f.path)
			case isImageName(f.name):
				files = append(files, f.path)
			default:
				others = append(others, f.name)
			}
		}
		if len(others) > 0 {
			fmt.Fprintf(notes, "shufflenet: note: skipping %d file(s) in %s not named as images (%s): %s\n",
				len(others), e.path, strings.Join(imageExtensions, " "), strings.Join(others, ", "))
		}
		if len(files) == 0 {
			return folder, fmt.Errorf("train: class folder %s holds no images (files named %s)", e.path, strings.Join(imageExtensions, " "))
		}
		if total += len(files); total > maxImages {
			return folder, fmt.Errorf("train: %s holds more than %d images: train on a subset of them", dir, maxImages)
		}
		folder.classes = append(folder.classes, e.name)
		folder.files = append(folder.files, files)
	}
	switch n := len(folder.classes); {
	case n == 0:
		return folder, fmt.Errorf("train: %s has no class folders: make a folder of images for each class, at least 2", dir)
	case n == 1:
		return folder, fmt.Errorf("train: %s has one class folder, %s: a head tells at least 2 classes apart, so make a folder of images for each",
			dir, folder.classes[0])
	case n > head.MaxClasses:
		return folder, fmt.Errorf("train: %s has %d class folders, a head at most %d", dir, n, head.MaxClasses)
	}
	return folder, nil
}

// imageExtensions are the endings, in any case, of the files in a class
// folder that train reads: the formats engine/preprocess decodes, as
// torchvision's ImageFolder reads files by their endings.
var imageExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}

func isImageName(name string) bool {
	return slices.Contains(imageExtensions, strings.ToLower(filepath.Ext(name)))
}

// folderEntry is an entry of a folder, its symbolic link followed.
type folderEntry struct {
	name, path string
	dir        bool
}

// listFolder lists dir's entries but those whose names start with ".",
// sorted by name. An entry that cannot be looked at (a broken link) is
// an error naming it.
func listFolder(dir string) ([]folderEntry, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []folderEntry
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		out = append(out, folderEntry{name: e.Name(), path: path, dir: info.IsDir()})
	}
	return out, nil
}

// heldOut says which of a class's n files, in name order, are held out:
// round(fraction x n) of them, at least one where n >= 2 and fraction > 0,
// never all, spread evenly: file i (from 0) when floor((i+1)h/n) >
// floor(ih/n), which is every fifth for 0.2. A class of one image trains
// on it and has none held out. The choice is made on the files, before
// decoding, so that whether an image is held out does not depend on
// whether others decode.
func heldOut(n int, fraction float64) []bool {
	h := int(math.Round(fraction * float64(n)))
	if fraction > 0 && n >= 2 {
		h = max(h, 1)
	}
	h = min(h, n-1)
	out := make([]bool, n)
	for i := range out {
		out[i] = (i+1)*h/n > i*h/n
	}
	return out
}

// extraction is what train keeps of the images: features only.
type extraction struct {
	train     []head.Sample // the training images' crops
	heldOut   []head.Sample // the held-out images' centre crops
	perClass  []classCount
	images    int // images decoded
	crops     int // forward passes
	skipped   int // files that did not decode
	took      time.Duration
	noHeldOut []string // classes with no image held out
}

type classCount struct{ train, heldOut int }

// extractFeatures runs each of the folder's images through net and keeps
// their features: held out (fraction of each class, see heldOut) the
// centre crop, as classify sees the image; otherwise the centre crop and,
// with augment, the crops augment adds. A file that does not decode is
// skipped with a warning on warnings; a class left with no image to train
// on is an error naming the files.
func extractFeatures(net *engine.Network, folder trainFolder, fraction float64, withAugment bool, warnings io.Writer) (*extraction, error) {
	in := net.Architecture().Input
	ex := &extraction{perClass: make([]classCount, len(folder.classes))}
	total := 0
	for _, files := range folder.files {
		total += len(files)
	}
	progress := itemProgress(os.Stderr, "features", "images")
	tensor := make([]float32, 3*in.Crop*in.Crop)
	features := func(input []float32) ([]float32, error) {
		ex.crops++
		if _, err := net.Forward(input); err != nil {
			return nil, err
		}
		f, err := net.Features()
		return slices.Clone(f), err
	}
	start, done := time.Now(), 0
	var empty []error
	for c, files := range folder.files {
		held := heldOut(len(files), fraction)
		firstHeld := len(ex.heldOut)
		var failed []string
		for i, path := range files {
			if progress != nil {
				progress(done, total)
			}
			done++
			img, err := decodeImageFile(path)
			if err != nil {
				fmt.Fprintf(warnings, "shufflenet: warning: skipping %s: %v\n", path, err)
				failed = append(failed, filepath.Base(path))
				ex.skipped++
				continue
			}
			centre, err := preprocess.FromImage(img, in)
			if err != nil {
				return nil, fmt.Errorf("train: %s: %w", path, err)
			}
			f, err := features(centre)
			if err != nil {
				return nil, fmt.Errorf("train: %s: %w", path, err)
			}
			ex.images++
			if held[i] {
				ex.heldOut = append(ex.heldOut, head.Sample{Features: f, Class: c})
				ex.perClass[c].heldOut++
				continue
			}
			ex.train = append(ex.train, head.Sample{Features: f, Class: c})
			ex.perClass[c].train++
			if withAugment {
				for _, square := range augment(img, in) {
					if err := in.FromRGBA(tensor, square.Pix, square.Stride); err != nil {
						return nil, fmt.Errorf("train: %s: %w", path, err)
					}
					if f, err = features(tensor); err != nil {
						return nil, fmt.Errorf("train: %s: %w", path, err)
					}
					ex.train = append(ex.train, head.Sample{Features: f, Class: c})
				}
			}
		}
		if ex.perClass[c].train == 0 && ex.perClass[c].heldOut > 0 {
			// Every training image failed to decode but a held-out one did:
			// a class needs something to train on more than a test.
			fmt.Fprintf(warnings, "shufflenet: warning: class %q: none of its training images decoded; its held-out ones train instead\n", folder.classes[c])
			ex.train = append(ex.train, ex.heldOut[firstHeld:]...)
			ex.heldOut = ex.heldOut[:firstHeld]
			ex.perClass[c].train, ex.perClass[c].heldOut = ex.perClass[c].heldOut, 0
		}
		switch {
		case ex.perClass[c].train == 0:
			empty = append(empty, fmt.Errorf("class %q has no image to train on: %d of its %d files did not decode (%s)",
				folder.classes[c], len(failed), len(files), strings.Join(failed, ", ")))
		case ex.perClass[c].heldOut == 0 && fraction > 0:
			ex.noHeldOut = append(ex.noHeldOut, folder.classes[c])
		}
	}
	if progress != nil {
		progress(total, total)
	}
	ex.took = time.Since(start)
	if len(empty) > 0 {
		return nil, fmt.Errorf("train: %w", errors.Join(empty...))
	}
	return ex, nil
}

// describe prints what extractFeatures found and how long it took.
func (ex *extraction) describe(w io.Writer, folder trainFolder, augmented bool) {
	classes := make([]string, len(folder.classes))
	images := 0
	for c, name := range folder.classes {
		classes[c] = fmt.Sprintf("%s (%d+%d)", name, ex.perClass[c].train, ex.perClass[c].heldOut)
		images += ex.perClass[c].train
	}
	fmt.Fprintf(w, "classes (training+held-out images): %s\n", strings.Join(classes, ", "))
	skipped := ""
	if ex.skipped > 0 {
		skipped = fmt.Sprintf("; %d file(s) skipped that did not decode", ex.skipped)
	}
	fmt.Fprintf(w, "features of %d images (%d crops) in %.1f s: %.1f ms an image, %.1f ms a crop%s\n", ex.images, ex.crops,
		ex.took.Seconds(), msPer(ex.took, ex.images), msPer(ex.took, ex.crops), skipped)
	how := ""
	if augmented {
		how = fmt.Sprintf(", %d crops each", augmentedCrops)
	}
	fmt.Fprintf(w, "training on %d samples (%d images%s), %d images held out\n", len(ex.train), images, how, len(ex.heldOut))
	if len(ex.noHeldOut) > 0 {
		fmt.Fprintf(w, "no image held out of %s (too few images)\n", strings.Join(ex.noHeldOut, ", "))
	}
}

func msPer(d time.Duration, n int) float64 { return d.Seconds() * 1000 / float64(max(n, 1)) }

// correct counts the samples whose most probable class under h is theirs.
func correct(h *head.Head, samples []head.Sample) (int, error) {
	n := 0
	for _, s := range samples {
		top, err := h.Top(s.Features, 1)
		if err != nil {
			return 0, err
		}
		if top[0].Index == s.Class {
			n++
		}
	}
	return n, nil
}

// decodeImageFile reads and decodes an image file as classify does.
func decodeImageFile(path string) (image.Image, error) {
	data, err := readImageFile(path)
	if err != nil {
		return nil, err
	}
	return preprocess.Decode(context.Background(), data, preprocess.DefaultMaxPixels)
}

// augment returns the crops --augment adds to a training image's centre
// crop (R is the convention's ResizeShort, C its Crop: 256 and 224 for
// every family but those that say otherwise), all C x C:
//
//   - mirrored: the centre crop flipped left to right;
//   - zoomed in: the centre crop of the image resized so that its shorter
//     side is 5R/4 (320): a quarter closer;
//   - zoomed out: the centre crop of the image resized so that its shorter
//     side is C: the whole of the shorter side;
//   - shifted up-left and down-right: the crop of the image resized to R
//     moved by s = (R-C)/2 pixels (16) both ways, to the edge of the
//     shorter side.
//
// The held-out images are never augmented: they are measured on the
// centre crop alone, as classify sees an image.
func augment(img image.Image, in engine.InputConvention) []*image.RGBA {
	r, c := in.ResizeShort, in.Crop
	s := max((r-c)/2, 1)
	wide := crop.Center(img, max(r, c+2*s), c+2*s)
	return []*image.RGBA{
		mirror(crop.Center(img, r, c)),
		crop.Center(img, r*5/4, c),
		crop.Center(img, c, c),
		wide.SubImage(image.Rect(0, 0, c, c)).(*image.RGBA),
		wide.SubImage(image.Rect(2*s, 2*s, 2*s+c, 2*s+c)).(*image.RGBA),
	}
}

// mirror flips img left to right, in place, and returns it.
func mirror(img *image.RGBA) *image.RGBA {
	b := img.Bounds()
	for y := range b.Dy() {
		row := img.Pix[y*img.Stride : y*img.Stride+4*b.Dx()]
		for i, j := 0, b.Dx()-1; i < j; i, j = i+1, j-1 {
			a, z := (*[4]byte)(row[4*i:]), (*[4]byte)(row[4*j:])
			*a, *z = *z, *a
		}
	}
	return img
}
