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
#define VECTORS 112
#define MASKS 120
#define ROWS 128

// A row's four sums, its residual added: Z(a..a+3) += residual row r.
#define ADD_RESIDUAL(r, a0, a1, a2, a3) \
	MOVQ (RESIDUAL+8*r)(AX), DI \
	ADDQ R13, DI \
	VMOVUPS.Z 0(DI), K1, Z24 \
	VMOVUPS.Z 64(DI), K2, Z25 \
	VMOVUPS.Z 128(DI), K3, Z26 \
	VMOVUPS.Z 192(DI), K4, Z27 \
	VADDPS Z24, a0, a0 \
	VADDPS Z25, a1, a1 \
	VADDPS Z26, a2, a2 \
	VADDPS Z27, a3, a3

// A row's four sums stored where the map is.
#define STORE(r, a0, a1, a2, a3) \
	MOVQ (DST+8*r)(AX), DI \
	ADDQ R13, DI \
	VMOVUPS a0, K1, 0(DI) \
	VMOVUPS a1, K2, 64(DI) \
	VMOVUPS a2, K3, 128(DI) \
	VMOVUPS a3, K4, 192(DI)

// A row's weight for one input, times the four input vectors, added.
#define FMA_ROW(off, wz, a0, a1, a2, a3) \
	VBROADCASTSS off(DX), wz \
	VFMADD231PS Z16, wz, a0 \
	VFMADD231PS Z17, wz, a1 \
	VFMADD231PS Z18, wz, a2 \
	VFMADD231PS Z19, wz, a3

// func pointwiseTilesAVX512(a *pointwiseTiles)
TEXT ·pointwiseTilesAVX512(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ STRIDE(AX), R8
	MOVQ VECTORS(AX), R9
	MOVQ MASKS(AX), BX
	XORQ R13, R13          // the tile's byte offset in a plane
	VPXORD Z31, Z31, Z31   // zero, for the ReLU

tile:
	KMOVW 0(BX), K1
	KMOVW 2(BX), K2
	KMOVW 4(BX), K3
	KMOVW 6(BX), K4
	MOVQ BIAS(AX), DI
	VBROADCASTSS 0(DI), Z0
	VMOVAPS Z0, Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	VBROADCASTSS 4(DI), Z4
	VMOVAPS Z4, Z5
	VMOVAPS Z4, Z6
	VMOVAPS Z4, Z7
	VBROADCASTSS 8(DI), Z8
	VMOVAPS Z8, Z9
	VMOVAPS Z8, Z10
	VMOVAPS Z8, Z11
	VBROADCASTSS 12(DI), Z12
	VMOVAPS Z12, Z13
	VMOVAPS Z12, Z14
	VMOVAPS Z12, Z15
	MOVQ SRC(AX), SI
	ADDQ R13, SI
	MOVQ W(AX), DX
	MOVQ INPUTS(AX), CX

input:
	VMOVUPS.Z 0(SI), K1, Z16
	VMOVUPS.Z 64(SI), K2, Z17
	VMOVUPS.Z 128(SI), K3, Z18
	VMOVUPS.Z 192(SI), K4, Z19
	FMA_ROW(0, Z20, Z0, Z1, Z2, Z3)
	FMA_ROW(4, Z21, Z4, Z5, Z6, Z7)
	FMA_ROW(8, Z22, Z8, Z9, Z10, Z11)
	FMA_ROW(12, Z23, Z12, Z13, Z14, Z15)
	ADDQ R8, SI
	ADDQ $16, DX
	DECQ CX
	JNZ input

	// Rows past ROWS exist only in registers: no residual, no store.
	MOVQ RESIDUAL(AX), DI
	TESTQ DI, DI
	JZ relu
	ADD_RESIDUAL(0, Z0, Z1, Z2, Z3)
	CMPQ ROWS(AX), $2
	JLT relu
	ADD_RESIDUAL(1, Z4, Z5, Z6, Z7)
	CMPQ ROWS(AX), $3
	JLT relu
	ADD_RESIDUAL(2, Z8, Z9, Z10, Z11)
	CMPQ ROWS(AX), $4
	JLT relu
	ADD_RESIDUAL(3, Z12, Z13, Z14, Z15)

relu:
	CMPQ RELU(AX), $0
	JEQ store
	VMAXPS Z31, Z0, Z0
	VMAXPS Z31, Z1, Z1
	VMAXPS Z31, Z2, Z2
	VMAXPS Z31, Z3, Z3
	VMAXPS Z31, Z4, Z4
	VMAXPS Z31, Z5, Z5
	VMAXPS Z31, Z6, Z6
	VMAXPS Z31, Z7, Z7
	VMAXPS Z31, Z8, Z8
	VMAXPS Z31, Z9, Z9
	VMAXPS Z31, Z10, Z10
	VMAXPS Z31, Z11, Z11
	VMAXPS Z31, Z12, Z12
	VMAXPS Z31, Z13, Z13
	VMAXPS Z31, Z14, Z14
	VMAXPS Z31, Z15, Z15

store:
	STORE(0, Z0, Z1, Z2, Z3)
	CMPQ ROWS(AX), $2
	JLT next
	STORE(1, Z4, Z5, Z6, Z7)
	CMPQ ROWS(AX), $3
	JLT next
	STORE(2, Z8, Z9, Z10, Z11)
	CMPQ ROWS(AX), $4
	JLT next
	STORE(3, Z12, Z13, Z14, Z15)

next:
	ADDQ $256, R13
	ADDQ $8, BX
	SUBQ $4, R9
	JNZ tile
	VZEROUPPER
	RET
