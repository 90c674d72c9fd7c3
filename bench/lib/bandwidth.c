/* Sequential read bandwidth for a working set of BYTES (the decode roofline's anchor).
 * usage: bandwidth BYTES REPS  -> one line per repetition: "<GB/s> <checksum>"
 * Each repetition sweeps the buffer enough times to read at least 1 GiB, so a
 * small (cache-resident) working set is timed as reliably as a large one. The
 * buffer is written once first so every page is backed by real memory (an
 * untouched calloc'd buffer reads the shared zero page and looks fast). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  size_t bytes = argc > 1 ? (size_t)atoll(argv[1]) : (size_t)512 << 20;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  size_t n = bytes / sizeof(float) / 64 * 64;
  if (n == 0 || reps < 1) {
    fprintf(stderr, "usage: bandwidth BYTES(>=256) REPS(>=1)\n");
    return 2;
  }
  size_t sweeps = ((size_t)1 << 30) / (n * sizeof(float)) + 1;
  float *a = aligned_alloc(64, n * sizeof(float));
  if (a == NULL) {
    fprintf(stderr, "bandwidth: cannot allocate %zu bytes\n", n * sizeof(float));
    return 1;
  }
  for (size_t i = 0; i < n; i++) a[i] = (float)(i & 7);
  for (int r = 0; r < reps; r++) {
    /* Eight independent sums so the loop is bound by loads, not by an add chain. */
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    double start = seconds();
    for (size_t sweep = 0; sweep < sweeps; sweep++) {
      for (size_t i = 0; i < n; i += 8) {
        s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3];
        s4 += a[i + 4]; s5 += a[i + 5]; s6 += a[i + 6]; s7 += a[i + 7];
      }
      /* Keep the compiler from merging sweeps: the next sweep depends on this one. */
      __asm__ volatile("" : : "g"(a) : "memory");
    }
    double elapsed = seconds() - start;
    printf("%.4f %.1f\n", (double)(n * sizeof(float) * sweeps) / elapsed / 1e9, (double)(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7));
  }
  free(a);
  return 0;
}
