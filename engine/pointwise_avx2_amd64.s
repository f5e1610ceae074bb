//go:build goexperiment.simd && amd64

#include "textflag.h"

// Offsets of pointwiseTiles' fields.
#define SRC 0
#define STRIDE 8
#define INPUTS 16
#define W 24
#define BIAS 32
#define DST 40
#define RESIDUAL 72
#define RELU 104
#define ROWS 128
#define PIXELS 136
#define TAIL 144

// A row's three sums, its residual added. The last tile may read past the
// map: those lanes are never stored.
#define ADD_RESIDUAL(r, a0, a1, a2) \
	MOVQ (RESIDUAL+8*r)(AX), DI \
	ADDQ R13, DI \
	VADDPS 0(DI), a0, a0 \
	VADDPS 32(DI), a1, a1 \
	VADDPS 64(DI), a2, a2

// A row's three sums stored.
#define STORE(r, a0, a1, a2) \
	MOVQ (DST+8*r)(AX), DI \
	ADDQ R13, DI \
	VMOVUPS a0, 0(DI) \
	VMOVUPS a1, 32(DI) \
	VMOVUPS a2, 64(DI)

// A row's three sums stored where the map is, under the masks Y12-Y14.
#define STORE_MASKED(r, a0, a1, a2) \
	MOVQ (DST+8*r)(AX), DI \
	ADDQ R13, DI \
	VMASKMOVPS a0, Y12, 0(DI) \
	VMASKMOVPS a1, Y13, 32(DI) \
	VMASKMOVPS a2, Y14, 64(DI)

// A row's weight for one input, times the three input vectors, added.
#define FMA_ROW(off, a0, a1, a2) \
	VBROADCASTSS off(DX), Y15 \
	VFMADD231PS Y12, Y15, a0 \
	VFMADD231PS Y13, Y15, a1 \
	VFMADD231PS Y14, Y15, a2

// The same for a narrow last tile's first two vectors, or its first.
#define FMA_ROW2(off, a0, a1) \
	VBROADCASTSS off(DX), Y15 \
	VFMADD231PS Y12, Y15, a0 \
	VFMADD231PS Y13, Y15, a1

#define FMA_ROW1(off, a0) \
	VBROADCASTSS off(DX), Y15 \
	VFMADD231PS Y12, Y15, a0

// The ReLU of a row's three sums, Y15 being zero.
#define RELU_ROW(a0, a1, a2) \
	VMAXPS Y15, a0, a0 \
	VMAXPS Y15, a1, a1 \
	VMAXPS Y15, a2, a2

// func pointwiseTilesAVX2(a *pointwiseTiles)
TEXT ·pointwiseTilesAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ STRIDE(AX), R8
	MOVQ PIXELS(AX), R9    // pixels from the tile on
	XORQ R13, R13          // the tile's byte offset in a plane

tile:
	MOVQ BIAS(AX), DI
	VBROADCASTSS 0(DI), Y0
	VBROADCASTSS 4(DI), Y3
	VBROADCASTSS 8(DI), Y6
	VBROADCASTSS 12(DI), Y9
	MOVQ SRC(AX), SI
	ADDQ R13, SI
	MOVQ W(AX), DX
	MOVQ INPUTS(AX), CX
	// A map's last tile of at most 8 or 16 pixels computes only its first
	// one or two vectors: the others' lanes are stored under zero masks.
	CMPQ R9, $8
	JLE narrow1
	VMOVAPS Y0, Y1
	VMOVAPS Y3, Y4
	VMOVAPS Y6, Y7
	VMOVAPS Y9, Y10
	CMPQ R9, $16
	JLE narrow2
	VMOVAPS Y0, Y2
	VMOVAPS Y3, Y5
	VMOVAPS Y6, Y8
	VMOVAPS Y9, Y11

input:
	VMOVUPS 0(SI), Y12
	VMOVUPS 32(SI), Y13
	VMOVUPS 64(SI), Y14
	FMA_ROW(0, Y0, Y1, Y2)
	FMA_ROW(4, Y3, Y4, Y5)
	FMA_ROW(8, Y6, Y7, Y8)
	FMA_ROW(12, Y9, Y10, Y11)
	ADDQ R8, SI
	ADDQ $16, DX
	DECQ CX
	JNZ input
	JMP sums

narrow2:
	VMOVUPS 0(SI), Y12
	VMOVUPS 32(SI), Y13
	FMA_ROW2(0, Y0, Y1)
	FMA_ROW2(4, Y3, Y4)
	FMA_ROW2(8, Y6, Y7)
	FMA_ROW2(12, Y9, Y10)
	ADDQ R8, SI
	ADDQ $16, DX
	DECQ CX
	JNZ narrow2
	JMP sums

narrow1:
	VMOVUPS 0(SI), Y12
	FMA_ROW1(0, Y0)
	FMA_ROW1(4, Y3)
	FMA_ROW1(8, Y6)
	FMA_ROW1(12, Y9)
	ADDQ R8, SI
	ADDQ $16, DX
	DECQ CX
	JNZ narrow1

sums:
	// Rows past ROWS exist only in registers: no residual, no store.
	MOVQ RESIDUAL(AX), DI
	TESTQ DI, DI
	JZ relu
	ADD_RESIDUAL(0, Y0, Y1, Y2)
	CMPQ ROWS(AX), $2
	JLT relu
	ADD_RESIDUAL(1, Y3, Y4, Y5)
	CMPQ ROWS(AX), $3
	JLT relu
	ADD_RESIDUAL(2, Y6, Y7, Y8)
	CMPQ ROWS(AX), $4
	JLT relu
	ADD_RESIDUAL(3, Y9, Y10, Y11)

relu:
	CMPQ RELU(AX), $0
	JEQ store
	VXORPS Y15, Y15, Y15
	RELU_ROW(Y0, Y1, Y2)
	RELU_ROW(Y3, Y4, Y5)
	RELU_ROW(Y6, Y7, Y8)
	RELU_ROW(Y9, Y10, Y11)

store:
	CMPQ R9, $24
	JLT partial
	STORE(0, Y0, Y1, Y2)
	CMPQ ROWS(AX), $2
	JLT next
	STORE(1, Y3, Y4, Y5)
	CMPQ ROWS(AX), $3
	JLT next
	STORE(2, Y6, Y7, Y8)
	CMPQ ROWS(AX), $4
	JLT next
	STORE(3, Y9, Y10, Y11)
	JMP next

partial:
	// The map's last R9 pixels: masks from ymmTailMasks[24-R9:].
	MOVQ $24, CX
	SUBQ R9, CX
	MOVQ TAIL(AX), DI
	LEAQ (DI)(CX*4), DI
	VMOVDQU 0(DI), Y12
	VMOVDQU 32(DI), Y13
	VMOVDQU 64(DI), Y14
	STORE_MASKED(0, Y0, Y1, Y2)
	CMPQ ROWS(AX), $2
	JLT next
	STORE_MASKED(1, Y3, Y4, Y5)
	CMPQ ROWS(AX), $3
	JLT next
	STORE_MASKED(2, Y6, Y7, Y8)
	CMPQ ROWS(AX), $4
	JLT next
	STORE_MASKED(3, Y9, Y10, Y11)

next:
	ADDQ $96, R13
	SUBQ $24, R9
	JGT tile
	VZEROUPPER
	RET
