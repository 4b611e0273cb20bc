/*  update_head.c: see update_head.h.  */
#include "update_head.h"
#include <string.h>

void
update_head_stamp (Election__Update *update, const update_head_t *head)
{
    update->has_sequence = true;
    update->sequence = head->sequence;
    update->has_epoch = true;
    update->epoch = head->epoch;
    update->has_mode = true;
    update->mode = head->mode;
    update->has_sent_at_us = true;
    update->sent_at_us = head->sent_at_us;
}

static bool
s_varint (const uint8_t **at, const uint8_t *end, uint64_t *value)
{
    *value = 0;
    for (int shift = 0; shift < 64 && *at < end; shift += 7) {
        uint8_t byte = *(*at)++;
        *value |= (uint64_t) (byte & 0x7F) << shift;
        if (!(byte & 0x80))
            return true;
    }
    return false;
}

bool
update_head_peek (const void *bytes, size_t size, update_head_t *head)
{
    memset (head, 0, sizeof *head);
    const uint8_t *at = bytes, *end = at + size;
    while (at < end) {
        uint64_t key, value;
        if (!s_varint (&at, end, &key))
            return false;
        uint64_t field = key >> 3;
        switch (key & 7) {
            case 0:     //  varint
                if (!s_varint (&at, end, &value))
                    return false;
                if (field == 1) head->sequence = value;
                if (field == 2) head->epoch = value;
                if (field == 3) head->mode = (Election__Mode) value;
                if (field == 7) head->sent_at_us = (int64_t) value;
                if (field == 120) {
                    head->has_topic_previous = true;
                    head->topic_previous = value;
                }
                break;
            case 1:     //  64-bit
                if (end - at < 8)
                    return false;
                at += 8;
                break;
            case 2:     //  length-delimited: the oneof bodies are fields 4 to 6, 40 and 100
                if (!s_varint (&at, end, &value) || value > (uint64_t) (end - at))
                    return false;
                at += value;
                if ((field >= ELECTION__UPDATE__BODY_SEAT && field <= ELECTION__UPDATE__BODY_HEARTBEAT)
                ||  field == ELECTION__UPDATE__BODY_DESK || field == ELECTION__UPDATE__BODY_PROJECTION)
                    head->body = (Election__Update__BodyCase) field;
                break;
            case 5:     //  32-bit
                if (end - at < 4)
                    return false;
                at += 4;
                break;
            default:
                return false;
        }
    }
    return true;
}

static size_t
s_put_varint (uint8_t *out, uint64_t value)
{
    size_t n = 0;
    while (value >= 0x80) {
        out [n++] = (uint8_t) (value | 0x80);
        value >>= 7;
    }
    out [n++] = (uint8_t) value;
    return n;
}

size_t
update_head_chain (uint8_t *out, uint64_t previous)
{
    size_t n = s_put_varint (out, (uint64_t) 120 << 3);     //  field 120, varint
    return n + s_put_varint (out + n, previous);
}
