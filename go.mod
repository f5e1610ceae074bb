module github.com/shufflenet-go/shufflenet

go 1.26.8

require (
	github.com/disintegration/imaging v1.6.2
	github.com/kshedden/gonpy v0.0.0-20210519231815-fa3c8dd8e59b
	github.com/nlpodyssey/gopickle v0.2.0
	golang.org/x/image v0.48.0
)
