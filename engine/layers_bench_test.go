package engine

import (
	"testing"
)

// BenchmarkLayers times each kind of layer on its own, summed over the
// whole network, so that a kernel change can be judged where it acts. Each
// sub-benchmark runs every layer of one kind, in network order, on the
// buffers a Forward left behind (the kernels' speed does not depend on the
// values). The ms/op of the kinds add up to about one Forward.
func BenchmarkLayers(b *testing.B) {
	for _, m := range benchModels {
		n, input := m.network(b, 7)
		if _, err := n.Forward(input); err != nil {
			b.Fatal(err)
		}
		a := n.arch
		buf := &n.buf
		eachUnit := func(f func(u *unit, in, out []float32)) {
			x, y := buf.act[0], buf.act[1]
			for _, stage := range n.stages {
				for i := range stage {
					f(&stage[i], x, y)
					x, y = y, x
				}
			}
		}
		kinds := []struct {
			name string
			macs int64
			run  func()
		}{
			{"stem", a.StemConv().MACs(), nil},
			{"maxpool", 0, func() { n.stemPool.run(buf.act[0], buf.stemOut) }},
			{"compress", macsOf(a, RoleCompress), func() {
				eachUnit(func(u *unit, in, _ []float32) { u.compress.run(buf.compressed.maps, in, nil) })
			}},
			{"spatial", macsOf(a, RoleSpatial), func() {
				eachUnit(func(u *unit, _, _ []float32) { u.spatial.run(buf.spatial, buf.compressed, &buf.conv) })
			}},
			{"expand", macsOf(a, RoleExpand), func() {
				eachUnit(func(u *unit, in, out []float32) {
					if u.shape.Stride == 1 {
						u.expand.run(out, buf.spatial, in)
						return
					}
					hw := u.shape.OutSize() * u.shape.OutSize()
					u.expand.run(out[u.mainPlanesOff*hw:], buf.spatial, nil)
				})
			}},
			{"avgpool", 0, func() {
				eachUnit(func(u *unit, in, out []float32) {
					if u.shape.Stride == 2 {
						hw := u.shape.OutSize() * u.shape.OutSize()
						u.shortcut.run(out[u.poolPlanes*hw:], in)
					}
				})
			}},
			{"head", a.Classifier().MACs(), func() {
				n.globalPool.run(buf.pooled, buf.act[0])
				n.classifier.run(buf.logits, buf.pooled)
			}},
		}
		kinds[0].run = func() { n.stem.run(buf.stemOut, unpadded(input), &buf.conv) }
		for _, k := range kinds {
			b.Run(m.name+"/"+k.name, func(b *testing.B) {
				for b.Loop() {
					k.run()
				}
				perOp := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(perOp*1e3, "ms/op")
				if k.macs > 0 {
					b.ReportMetric(float64(k.macs)/perOp/1e9, "GMAC/s")
				}
			})
		}
	}
}

func macsOf(a Architecture, r Role) int64 {
	var total int64
	for _, c := range a.Convs() {
		if c.Role == r {
			total += c.MACs()
		}
	}
	return total
}
