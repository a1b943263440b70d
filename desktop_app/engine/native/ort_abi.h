// The parts of ONNX Runtime's C ABI that a custom-op library uses, declared here.
//
// ONNX Runtime's Python wheels carry no headers, so the few declarations this library
// needs are written out from the documented ABI (onnxruntime_c_api.h, API version 29):
// OrtApi is a table of function pointers that only ever grows at its end, so a function's
// place in it is fixed once released; OrtCustomOp is read up to the fields its `version`
// admits. Every index used here exists since ONNX Runtime 1.17 (pyproject asks for 1.22).
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

struct OrtStatus;
struct OrtApi;
struct OrtValue;
struct OrtKernelInfo;
struct OrtKernelContext;
struct OrtSessionOptions;
struct OrtCustomOpDomain;
struct OrtTensorTypeAndShapeInfo;
struct OrtShapeInferContext;

struct OrtApiBase {
    const OrtApi* (*GetApi)(uint32_t version);
    const char* (*GetVersionString)();
};

enum OrtElementType : int { kOrtFloat = 1, kOrtUint8 = 2, kOrtInt32 = 6, kOrtInt64 = 7 };
enum OrtErrorCodeValue : int { kOrtFail = 1, kOrtInvalidArgument = 2 };
enum OrtCharacteristic : int { kOrtRequired = 0 };
enum OrtMemoryType : int { kOrtMemDefault = 0 };

// Every member, in the ABI's order; the library sets `version` to 16, so ONNX Runtime reads
// no further than KernelComputeV2, and fills the V2 callbacks only (ONNX Runtime calls
// those when they are set; the V1 ones, which cannot report an error, stay null).
struct OrtCustomOp {
    uint32_t version;
    void* (*CreateKernel)(const OrtCustomOp* op, const OrtApi* api, const OrtKernelInfo* info);
    const char* (*GetName)(const OrtCustomOp* op);
    const char* (*GetExecutionProviderType)(const OrtCustomOp* op);
    OrtElementType (*GetInputType)(const OrtCustomOp* op, size_t index);
    size_t (*GetInputTypeCount)(const OrtCustomOp* op);
    OrtElementType (*GetOutputType)(const OrtCustomOp* op, size_t index);
    size_t (*GetOutputTypeCount)(const OrtCustomOp* op);
    void (*KernelCompute)(void* kernel, OrtKernelContext* context);
    void (*KernelDestroy)(void* kernel);
    OrtCharacteristic (*GetInputCharacteristic)(const OrtCustomOp* op, size_t index);
    OrtCharacteristic (*GetOutputCharacteristic)(const OrtCustomOp* op, size_t index);
    OrtMemoryType (*GetInputMemoryType)(const OrtCustomOp* op, size_t index);
    int (*GetVariadicInputMinArity)(const OrtCustomOp* op);
    int (*GetVariadicInputHomogeneity)(const OrtCustomOp* op);
    int (*GetVariadicOutputMinArity)(const OrtCustomOp* op);
    int (*GetVariadicOutputHomogeneity)(const OrtCustomOp* op);
    OrtStatus* (*CreateKernelV2)(const OrtCustomOp* op, const OrtApi* api, const OrtKernelInfo* info, void** kernel);
    OrtStatus* (*KernelComputeV2)(void* kernel, OrtKernelContext* context);
    OrtStatus* (*InferOutputShapeFn)(const OrtCustomOp* op, OrtShapeInferContext* context);
    int (*GetStartVersion)(const OrtCustomOp* op);
    int (*GetEndVersion)(const OrtCustomOp* op);
    size_t (*GetMayInplace)(int** input_index, int** output_index);
    void (*ReleaseMayInplace)(int* input_index, int* output_index);
    size_t (*GetAliasMap)(int** input_index, int** output_index);
    void (*ReleaseAliasMap)(int* input_index, int* output_index);
};
}

namespace inkwell::ort {

constexpr uint32_t kApiVersion = 17;  // KernelContext_ParallelFor's
constexpr uint32_t kCustomOpVersion = 16;

// Positions in the OrtApi table.
enum Slot : size_t {
    kCreateStatus = 0,
    kGetErrorMessage = 2,
    kCreateCustomOpDomain = 26,
    kCustomOpDomainAdd = 27,
    kAddCustomOpDomain = 28,
    kGetTensorMutableData = 51,
    kGetDimensionsCount = 61,
    kGetDimensions = 62,
    kGetTensorTypeAndShape = 65,
    kKernelInfoGetAttributeFloat = 85,
    kKernelInfoGetAttributeInt64 = 86,
    kKernelContextGetInput = 90,
    kKernelContextGetOutput = 91,
    kReleaseStatus = 93,
    kReleaseTensorTypeAndShapeInfo = 99,
    kKernelContextParallelFor = 274,
};

template <typename Fn>
Fn at(const OrtApi* api, Slot slot) {
    return reinterpret_cast<Fn const*>(api)[slot];
}

using CreateStatusFn = OrtStatus* (*)(int code, const char* message);
using CreateCustomOpDomainFn = OrtStatus* (*)(const char* domain, OrtCustomOpDomain** out);
using CustomOpDomainAddFn = OrtStatus* (*)(OrtCustomOpDomain* domain, const OrtCustomOp* op);
using AddCustomOpDomainFn = OrtStatus* (*)(OrtSessionOptions* options, OrtCustomOpDomain* domain);
using GetTensorMutableDataFn = OrtStatus* (*)(OrtValue* value, void** out);
using GetDimensionsCountFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo* info, size_t* out);
using GetDimensionsFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo* info, int64_t* values, size_t length);
using GetTensorTypeAndShapeFn = OrtStatus* (*)(const OrtValue* value, OrtTensorTypeAndShapeInfo** out);
using KernelInfoGetAttributeFloatFn = OrtStatus* (*)(const OrtKernelInfo* info, const char* name, float* out);
using KernelInfoGetAttributeInt64Fn = OrtStatus* (*)(const OrtKernelInfo* info, const char* name, int64_t* out);
using KernelContextGetInputFn = OrtStatus* (*)(const OrtKernelContext* context, size_t index, const OrtValue** out);
using KernelContextGetOutputFn = OrtStatus* (*)(OrtKernelContext* context, size_t index, const int64_t* dims,
                                                size_t count, OrtValue** out);
using ReleaseStatusFn = void (*)(OrtStatus* status);
using ReleaseTensorTypeAndShapeInfoFn = void (*)(OrtTensorTypeAndShapeInfo* info);
using KernelContextParallelForFn = OrtStatus* (*)(const OrtKernelContext* context, void (*fn)(void*, size_t),
                                                  size_t total, size_t num_batch, void* user_data);

}  // namespace inkwell::ort
