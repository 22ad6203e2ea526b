// Raw memory access is not TensorLang: memref ops are rejected, so verified programs
// cannot read or write outside their tensors.
// expected-error@6:10 {{'memref.alloc' is not allowed in TensorLang}}
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %a = "tensorlang.slice"(%obs) {offsets = array<i64: 0>, sizes = array<i64: 2>} : (tensor<8xf64>) -> tensor<2xf64>
  %buf = memref.alloc() : memref<1000000xf64>
  return %a, %mem : tensor<2xf64>, tensor<4xf64>
}
