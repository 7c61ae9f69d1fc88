// N-API addon: BLAS products and fused training passes on the memory of tfjs's wasm backend.
//
// The wasm backend keeps every tensor in its WebAssembly.Memory; JavaScript passes that memory's
// ArrayBuffer and byte offsets, so no tensor is copied. The arithmetic outside the BLAS call is
// plain float32 in a fixed order (compiled without FP contraction: no fused multiply-add), so it
// rounds exactly like the JavaScript host path it replaces.
#include <node_api.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

extern "C" {
// The CBLAS entry point, declared here so that no cblas.h location is assumed (Debian keeps it
// under an alternatives path; macOS under Accelerate).
enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float* a,
                 int lda, const float* b, int ldb, float beta, float* c, int ldc);
// OpenBLAS only: weak, so the addon also links against other BLAS libraries.
void openblas_set_num_threads(int n) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
char* openblas_get_config(void) __attribute__((weak));
}

namespace {

enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kLeakyRelu = 3, kSigmoid = 4, kElu = 5, kPrelu = 6 };

// The most arguments any function here takes (gemm: 18). napi_get_cb_info fills at most this many
// slots but reports the real count, so a call with more must be refused before argv is read: the
// slots past the end are not ours (sumSquares, which takes a variable count, would read them).
constexpr size_t kMaxArgs = 24;

struct Args {
  napi_env env;
  size_t argc;
  napi_value argv[kMaxArgs];
  bool ok = true;
};

void Fail(napi_env env, const char* message) { napi_throw_error(env, "MTL_NATIVE", message); }

bool GetArgs(napi_env env, napi_callback_info info, Args& a, size_t want) {
  a.env = env;
  a.argc = kMaxArgs;
  if (napi_get_cb_info(env, info, &a.argc, a.argv, nullptr, nullptr) != napi_ok) {
    Fail(env, "cannot read the arguments");
    return false;
  }
  if (a.argc > kMaxArgs) {
    char message[96];
    std::snprintf(message, sizeof(message), "too many arguments: %zu (at most %zu)", a.argc, kMaxArgs);
    Fail(env, message);
    return false;
  }
  if (a.argc < want) {
    Fail(env, "too few arguments");
    return false;
  }
  return true;
}

double Num(Args& a, size_t i) {
  double v = 0;
  if (napi_get_value_double(a.env, a.argv[i], &v) != napi_ok) a.ok = false;
  return v;
}

int64_t Int(Args& a, size_t i) {
  int64_t v = 0;
  if (napi_get_value_int64(a.env, a.argv[i], &v) != napi_ok) a.ok = false;
  return v;
}

uint8_t* Buffer(Args& a, size_t i, size_t* length) {
  void* data = nullptr;
  if (napi_get_arraybuffer_info(a.env, a.argv[i], &data, length) != napi_ok) {
    a.ok = false;
    return nullptr;
  }
  return static_cast<uint8_t*>(data);
}

float* Floats(Args& a, size_t i, size_t* count) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value ab;
  size_t offset = 0;
  if (napi_get_typedarray_info(a.env, a.argv[i], &type, &length, &data, &ab, &offset) != napi_ok ||
      type != napi_float32_array) {
    a.ok = false;
    return nullptr;
  }
  *count = length;
  return static_cast<float*>(data);
}

/** A float32 pointer at a byte offset of the heap, checked to hold `count` values. */
float* At(Args& a, uint8_t* heap, size_t heapBytes, int64_t offset, int64_t count) {
  if (offset < 0 || count < 0 || offset % 4 != 0 ||
      static_cast<uint64_t>(offset) + static_cast<uint64_t>(count) * 4 > heapBytes) {
    a.ok = false;
    return nullptr;
  }
  return reinterpret_cast<float*>(heap + offset);
}

float Activate(float z, int act, float alpha, float prelu) {
  switch (act) {
    case kRelu:
      return z > 0.0f ? z : 0.0f;
    case kRelu6:
      return z < 0.0f ? 0.0f : (z > 6.0f ? 6.0f : z);
    case kLeakyRelu:
      return z < 0.0f ? alpha * z : z;
    case kSigmoid:
      return 1.0f / (1.0f + std::exp(-z));
    case kElu:
      return z < 0.0f ? std::expm1(z) : z;
    case kPrelu:
      return z < 0.0f ? prelu * z : z;
    default:
      return z;
  }
}

// gemm(heap, batch, m, n, k, transA, transB, aOff, aStride, bOff, bStride, outOff,
//      biasOff, biasLen, act, alpha, preluOff, preluLen)
// out[i] = act(op(a[i])·op(b[i]) + bias) for i < batch; strides in floats (0 broadcasts one
// matrix); biasOff < 0: no bias; biasLen 1 (scalar) or n (per column); preluLen 1 or n.
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, a, 18)) return nullptr;
  size_t heapBytes = 0;
  uint8_t* heap = Buffer(a, 0, &heapBytes);
  const int64_t batch = Int(a, 1), m = Int(a, 2), n = Int(a, 3), k = Int(a, 4);
  bool ta = false, tb = false;
  napi_get_value_bool(env, a.argv[5], &ta);
  napi_get_value_bool(env, a.argv[6], &tb);
  const int64_t aOff = Int(a, 7), aStride = Int(a, 8), bOff = Int(a, 9), bStride = Int(a, 10);
  const int64_t outOff = Int(a, 11), biasOff = Int(a, 12), biasLen = Int(a, 13);
  const int act = static_cast<int>(Int(a, 14));
  const float alpha = static_cast<float>(Num(a, 15));
  const int64_t preluOff = Int(a, 16), preluLen = Int(a, 17);
  if (!a.ok || batch < 1 || m < 0 || n < 0 || k < 0) {
    Fail(env, "gemm: bad arguments");
    return nullptr;
  }
  const float* A = At(a, heap, heapBytes, aOff, aStride * (batch - 1) + m * k);
  const float* B = At(a, heap, heapBytes, bOff, bStride * (batch - 1) + k * n);
  float* C = At(a, heap, heapBytes, outOff, batch * m * n);
  const float* bias = biasOff < 0 ? nullptr : At(a, heap, heapBytes, biasOff, biasLen);
  const float* prelu = act == kPrelu ? At(a, heap, heapBytes, preluOff, preluLen) : nullptr;
  if (!a.ok || (biasOff >= 0 && biasLen != 1 && biasLen != n) ||
      (act == kPrelu && preluLen != 1 && preluLen != n)) {
    Fail(env, "gemm: operand outside the heap or bad bias/prelu length");
    return nullptr;
  }
  for (int64_t i = 0; i < batch; i++) {
    float* c = C + i * m * n;
    if (m == 0 || n == 0) continue;
    if (k == 0) {
      std::memset(c, 0, sizeof(float) * m * n);
    } else {
      cblas_sgemm(kRowMajor, ta ? kTrans : kNoTrans, tb ? kTrans : kNoTrans, static_cast<int>(m),
                  static_cast<int>(n), static_cast<int>(k), 1.0f, A + i * aStride,
                  static_cast<int>(ta ? m : k), B + i * bStride, static_cast<int>(tb ? k : n), 0.0f, c,
                  static_cast<int>(n));
    }
    if (bias == nullptr && act == kLinear) continue;
    for (int64_t r = 0; r < m; r++) {
      float* row = c + r * n;
      for (int64_t j = 0; j < n; j++) {
        float z = row[j];
        if (bias != nullptr) z = z + bias[biasLen == 1 ? 0 : j];
        row[j] = Activate(z, act, alpha, prelu == nullptr ? 0.0f : prelu[preluLen == 1 ? 0 : j]);
      }
    }
  }
  return nullptr;
}

// denseGrad(heap, rows, in, out, dyOff, xOff, kernelOff, yOff, dxOff, dwOff, dbOff)
// The backward pass of y = act(x·kernel + bias) for act linear (yOff < 0) or relu:
// dz = dy·[y > 0], dx = dz·kernelᵀ, dkernel = xᵀ·dz, dbias = Σ_rows dz (float32, row order).
napi_value DenseGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, a, 11)) return nullptr;
  size_t heapBytes = 0;
  uint8_t* heap = Buffer(a, 0, &heapBytes);
  const int64_t rows = Int(a, 1), in = Int(a, 2), out = Int(a, 3);
  const int64_t yOff = Int(a, 7);
  if (!a.ok || rows < 1 || in < 1 || out < 1) {
    Fail(env, "denseGrad: bad arguments");
    return nullptr;
  }
  const float* dy = At(a, heap, heapBytes, Int(a, 4), rows * out);
  const float* x = At(a, heap, heapBytes, Int(a, 5), rows * in);
  const float* kernel = At(a, heap, heapBytes, Int(a, 6), in * out);
  const float* y = yOff < 0 ? nullptr : At(a, heap, heapBytes, yOff, rows * out);
  float* dx = At(a, heap, heapBytes, Int(a, 8), rows * in);
  float* dw = At(a, heap, heapBytes, Int(a, 9), in * out);
  float* db = At(a, heap, heapBytes, Int(a, 10), out);
  if (!a.ok) {
    Fail(env, "denseGrad: operand outside the heap");
    return nullptr;
  }
  const float* dz = dy;
  static thread_local std::vector<float> scratch;
  if (y != nullptr) {
    scratch.resize(static_cast<size_t>(rows * out));
    for (int64_t i = 0; i < rows * out; i++) scratch[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    dz = scratch.data();
  }
  const int R = static_cast<int>(rows), I = static_cast<int>(in), O = static_cast<int>(out);
  cblas_sgemm(kRowMajor, kNoTrans, kTrans, R, I, O, 1.0f, dz, O, kernel, O, 0.0f, dx, I);
  cblas_sgemm(kRowMajor, kTrans, kNoTrans, I, O, R, 1.0f, x, I, dz, O, 0.0f, dw, O);
  for (int64_t j = 0; j < out; j++) db[j] = dz[j];
  for (int64_t r = 1; r < rows; r++) {
    const float* row = dz + r * out;
    for (int64_t j = 0; j < out; j++) db[j] = db[j] + row[j];
  }
  return nullptr;
}

// softmaxCrossEntropy(heap, rows, classes, logitsOff, labelsOff, lossOff, gradOff)
// Mean softmax cross-entropy over labeled rows (int32 labels; one outside [0, classes) abstains):
// loss = −Σ log softmax(z)[r, label_r] / max(labeled, 1), and its gradient in z for a unit loss
// gradient, (softmax(z)_r − onehot_r) / max(labeled, 1) on labeled rows, 0 on the others.
napi_value SoftmaxCrossEntropy(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, a, 7)) return nullptr;
  size_t heapBytes = 0;
  uint8_t* heap = Buffer(a, 0, &heapBytes);
  const int64_t rows = Int(a, 1), classes = Int(a, 2);
  if (!a.ok || rows < 0 || classes < 1) {
    Fail(env, "softmaxCrossEntropy: bad arguments");
    return nullptr;
  }
  const float* z = At(a, heap, heapBytes, Int(a, 3), rows * classes);
  const int32_t* labels = reinterpret_cast<const int32_t*>(At(a, heap, heapBytes, Int(a, 4), rows));
  float* loss = At(a, heap, heapBytes, Int(a, 5), 1);
  float* grad = At(a, heap, heapBytes, Int(a, 6), rows * classes);
  if (!a.ok) {
    Fail(env, "softmaxCrossEntropy: operand outside the heap");
    return nullptr;
  }
  int64_t labeled = 0;
  for (int64_t r = 0; r < rows; r++) labeled += labels[r] >= 0 && labels[r] < classes;
  const float count = labeled > 0 ? static_cast<float>(labeled) : 1.0f;
  double total = 0;
  for (int64_t r = 0; r < rows; r++) {
    const float* zr = z + r * classes;
    float* gr = grad + r * classes;
    const int32_t label = labels[r];
    if (label < 0 || label >= classes) {
      for (int64_t c = 0; c < classes; c++) gr[c] = 0.0f;
      continue;
    }
    float max = zr[0];
    for (int64_t c = 1; c < classes; c++) max = zr[c] > max ? zr[c] : max;
    float sum = 0.0f;
    for (int64_t c = 0; c < classes; c++) sum += std::exp(zr[c] - max);
    const float lse = std::log(sum);
    for (int64_t c = 0; c < classes; c++) {
      const float logp = (zr[c] - max) - lse;
      gr[c] = (std::exp(logp) - (c == label ? 1.0f : 0.0f)) / count;
      if (c == label) total -= logp;
    }
  }
  *loss = static_cast<float>(total / count);
  return nullptr;
}

// adam(w, g, m, v, out, b1, b2, a1, a2, c1, c2, eps, decay, lr, scale)
// The host path's Adam/AdamW rule, every operation rounded to float32 in the same order
// (packages/training/src/optimizer.ts). scale != 1 multiplies g first, like its `scaled` helper;
// decay == 1: no weight decay.
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, a, 15)) return nullptr;
  size_t nw = 0, ng = 0, nm = 0, nv = 0, no = 0;
  const float* w = Floats(a, 0, &nw);
  const float* g = Floats(a, 1, &ng);
  float* m = Floats(a, 2, &nm);
  float* v = Floats(a, 3, &nv);
  float* out = Floats(a, 4, &no);
  const float b1 = static_cast<float>(Num(a, 5)), b2 = static_cast<float>(Num(a, 6));
  const float a1 = static_cast<float>(Num(a, 7)), a2 = static_cast<float>(Num(a, 8));
  const float c1 = static_cast<float>(Num(a, 9)), c2 = static_cast<float>(Num(a, 10));
  const float eps = static_cast<float>(Num(a, 11)), decay = static_cast<float>(Num(a, 12));
  const float lr = static_cast<float>(Num(a, 13)), scale = static_cast<float>(Num(a, 14));
  if (!a.ok || ng != nw || nm != nw || nv != nw || no != nw) {
    Fail(env, "adam: arguments must be float32 arrays of one length");
    return nullptr;
  }
  const bool decayed = decay != 1.0f;
  const bool scaled = scale != 1.0f;
  for (size_t i = 0; i < nw; i++) {
    const float gi = scaled ? scale * g[i] : g[i];
    const float mi = b1 * m[i] + a1 * gi;
    const float vi = b2 * v[i] + a2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    const float direction = (mi / c1) / (std::sqrt(vi / c2) + eps);
    const float base = decayed ? w[i] * decay : w[i];
    out[i] = base - lr * direction;
  }
  return nullptr;
}

// sumSquares(arrays...) -> Σ g² in float64, array by array in order (the Trainer's gradient norm).
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, a, 0)) return nullptr;
  double s = 0;
  for (size_t i = 0; i < a.argc; i++) {
    size_t n = 0;
    const float* g = Floats(a, i, &n);
    if (!a.ok) {
      Fail(env, "sumSquares: arguments must be float32 arrays");
      return nullptr;
    }
    for (size_t j = 0; j < n; j++) s += static_cast<double>(g[j]) * static_cast<double>(g[j]);
  }
  napi_value result;
  napi_create_double(env, s, &result);
  return result;
}

// setThreads(n) -> the BLAS thread count in effect (0 when the library cannot say).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a;
  if (!GetArgs(env, info, a, 1)) return nullptr;
  const int64_t n = Int(a, 0);
  if (openblas_set_num_threads != nullptr && n > 0) openblas_set_num_threads(static_cast<int>(n));
  napi_value result;
  napi_create_int32(env, openblas_get_num_threads != nullptr ? openblas_get_num_threads() : 0, &result);
  return result;
}

napi_value Config(napi_env env, napi_callback_info) {
  const char* config = openblas_get_config != nullptr ? openblas_get_config() : "BLAS";
  napi_value result;
  napi_create_string_utf8(env, config, NAPI_AUTO_LENGTH, &result);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"denseGrad", nullptr, DenseGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxCrossEntropy", nullptr, SoftmaxCrossEntropy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSquares", nullptr, SumSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"config", nullptr, Config, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
