package pth

import (
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// findClass resolves the globals a checkpoint's pickle names. Tensors and
// storages get gopickle's PyTorch types; anything else (numpy scalars,
// collections.defaultdict and the like, which mmcv puts in "meta") gets a
// harmless stand-in that absorbs whatever the pickle does with it. Nothing
// is ever executed.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return &pytorch.RebuildTensorV2{}, nil
	case "torch.FloatStorage":
		return &pytorch.FloatStorageClass{}, nil
	case "torch.HalfStorage":
		return &pytorch.HalfStorageClass{}, nil
	case "torch.BFloat16Storage":
		return &pytorch.BFloat16StorageClass{}, nil
	case "torch.DoubleStorage":
		return &pytorch.DoubleStorageClass{}, nil
	case "torch.LongStorage":
		return &pytorch.LongStorageClass{}, nil
	case "torch.IntStorage":
		return &pytorch.IntStorageClass{}, nil
	case "torch.ShortStorage":
		return &pytorch.ShortStorageClass{}, nil
	case "torch.CharStorage":
		return &pytorch.CharStorageClass{}, nil
	case "torch.ByteStorage":
		return &pytorch.ByteStorageClass{}, nil
	case "torch.BoolStorage":
		return &pytorch.BoolStorageClass{}, nil
	}
	return &standIn{Module: module, Name: name}, nil
}

// standIn is a placeholder for a Python class or object the loader does
// not need. It can be called, constructed, given state, attributes, items
// and list elements, and ignores all of them.
type standIn struct {
	Module, Name string
}

var (
	_ types.Callable        = (*standIn)(nil)
	_ types.PyNewable       = (*standIn)(nil)
	_ types.PyStateSettable = (*standIn)(nil)
	_ types.PyDictSettable  = (*standIn)(nil)
	_ types.PyAttrSettable  = (*standIn)(nil)
	_ types.DictSetter      = (*standIn)(nil)
	_ types.ListAppender    = (*standIn)(nil)
)

func (s *standIn) Call(...any) (any, error)  { return &standIn{Module: s.Module, Name: s.Name}, nil }
func (s *standIn) PyNew(...any) (any, error) { return &standIn{Module: s.Module, Name: s.Name}, nil }
func (s *standIn) PySetState(any) error      { return nil }
func (s *standIn) PyDictSet(_, _ any) error  { return nil }
func (s *standIn) PySetAttr(string, any) error {
	return nil
}
func (s *standIn) Set(_, _ any) {}
func (s *standIn) Get(any) (any, bool) {
	return nil, false
}
func (s *standIn) Append(any) {}
