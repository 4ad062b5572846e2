/* The C interface of libsymp_spm.so (lib/spm_plugin/), the one library that links SentencePiece. The
 * plugin is opened in a link-map namespace of its own (dlmopen), with its own copies of the C and C++
 * runtimes, so only plain data crosses: strings as pointer and size, results through the caller's
 * callbacks, which copy them into the caller's memory. No exception crosses; errors come back through
 * `on_error`. Internal to lib/text: use symp/text/sentencepiece.h. */
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*symp_spm_bytes_fn)(void* ctx, const char* data, size_t size);
typedef void (*symp_spm_ints_fn)(void* ctx, const int* data, size_t size);

/* A processor for a serialized model; NULL (and on_error called) when it does not load. */
typedef void* (*symp_spm_open_fn)(const char* model, size_t size, symp_spm_bytes_fn on_error, void* ctx);
typedef void (*symp_spm_close_fn)(void* processor);
typedef int (*symp_spm_piece_size_fn)(const void* processor);
typedef int (*symp_spm_piece_to_id_fn)(const void* processor, const char* piece, size_t size);
typedef int (*symp_spm_unk_id_fn)(const void* processor);
/* Return 0, or -1 after calling on_error. */
typedef int (*symp_spm_encode_fn)(const void* processor, const char* text, size_t size, symp_spm_ints_fn out,
                                  symp_spm_bytes_fn on_error, void* ctx);
typedef int (*symp_spm_decode_fn)(const void* processor, const int* ids, size_t n, symp_spm_bytes_fn out,
                                  symp_spm_bytes_fn on_error, void* ctx);
/* Trains on texts with trainer flags keys[i]=values[i]; the serialized model goes to model_out. */
typedef int (*symp_spm_train_fn)(const char* const* keys, const char* const* values, size_t nargs,
                                 const char* const* texts, const size_t* sizes, size_t ntexts, unsigned seed,
                                 symp_spm_bytes_fn model_out, symp_spm_bytes_fn on_error, void* ctx);

#ifdef __cplusplus
}
#endif
