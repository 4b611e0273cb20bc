/*  chain.h: the frames of the raw durable chain (issue 17), shared by bench
    (which sends declarations and receives acks and updates) and bench-chain
    (whose store and relay processes carry them). The chain is the path of
    the real pipeline with none of our work in it: no protobuf, no tally, no
    summaries, no CRC. What it keeps is what the design cannot do without:
    one sender's DEALER to a ROUTER, an append to a file with one fdatasync
    per batch of up to CHAIN_BATCH, an ack back, and the updates of each
    declaration relayed PUB -> SUB -> PUB -> SUB through a second process.

    Every frame is padded to the size the real pipeline's frames had in the
    same run; only its first bytes mean anything (integers little-endian):
      declaration  [u64 index][u8 updates]          padded to decl size
      ack          [u64 index]                      padded to ack size
      update       topic (padding), then body
                   [u64 index][u8 position][u8 updates]  padded to update size
    index is the declaration's place in its drive: bench checks that acks
    and updates come back in order, so a loss is an error, never a guess.  */
#ifndef BENCH_CHAIN_H
#define BENCH_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define CHAIN_BATCH         512     /* as the aggregator's S_BATCH: declarations per fdatasync */
#define CHAIN_HWM           100000  /* as the aggregator's and publisher's send HWMs */
#define CHAIN_DECL_MIN      9       /* index and update count */
#define CHAIN_ACK_MIN       8       /* index */
#define CHAIN_UPDATE_MIN    10      /* index, position, update count */
#define CHAIN_MAX_UPDATES   255     /* per declaration (one byte) */
#define CHAIN_MAX_FRAME     65536   /* any padded frame, at most */

static inline void
chain_put_u64 (uint8_t *at, uint64_t value)
{
    for (int i = 0; i < 8; i++)
        at [i] = (uint8_t) (value >> (8 * i));
}

static inline uint64_t
chain_get_u64 (const uint8_t *at)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value |= (uint64_t) at [i] << (8 * i);
    return value;
}

#endif
