/*  parties.c: see parties.h.  */
#include "parties.h"
#include "csv_reader.h"
#include "strmap.h"
#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_CODE, S_NAME, S_COLOUR, S_ALIASES, S_COLUMNS };

static const char *const s_columns [S_COLUMNS] = { "code", "name", "colour", "aliases" };

#define S_KEY_MAX 128   /* bytes of a spelling we match; longer ones are cut */

struct parties {
    party_entry_t *entries;
    size_t count;
    size_t cap;
    strmap_t *codes;            /* code -> index; keys borrowed from entries */
    strmap_t *spellings;        /* folded spelling -> index; keys copied */
};

//  A spelling as it is matched: ASCII letters lower-cased, digits and
//  anything beyond ASCII (accented letters) kept, the rest (spaces,
//  hyphens, dots) dropped, so "Lab Co-op", "lab co-op" and "LabCoop" meet
static void
s_fold (const char *text, char key [S_KEY_MAX])
{
    size_t at = 0;
    for (const unsigned char *c = (const unsigned char *) text; *c && at + 1 < S_KEY_MAX; c++)
        if (isalnum (*c) || *c >= 0x80)
            key [at++] = (char) tolower (*c);
    key [at] = 0;
}

static bool
s_colour_ok (const char *colour)
{
    if (strlen (colour) != 7 || colour [0] != '#')
        return false;
    for (int i = 1; i < 7; i++)
        if (!isxdigit ((unsigned char) colour [i]))
            return false;
    return true;
}

//  Adds one spelling of party `index`; refuses one that another party has
static el_err_t
s_spelling (csv_reader_t *reader, parties_t *self, const char *text, size_t index)
{
    char key [S_KEY_MAX], buffer [CSV_EXCERPT_SIZE];
    s_fold (text, key);
    if (!*key)
        return EL_OK;       //  nothing to match ("" between two ';')
    size_t other;
    if (strmap_get (self->spellings, key, &other)) {
        if (other == index)
            return EL_OK;   //  "Labour" as the name and as an alias
        return csv_reader_fail (reader, EL_ERR_PARSE, "\"%s\" of party %s is already party %s's",
                                csv_reader_excerpt (text, buffer), self->entries [index].code,
                                self->entries [other].code);
    }
    if (strmap_put (self->spellings, key, index))
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    return EL_OK;
}

static el_err_t
s_row (csv_reader_t *reader, void *arg, char **fields)
{
    parties_t *self = arg;
    char buffer [CSV_EXCERPT_SIZE];
    if (!*fields [S_CODE] || !*fields [S_NAME])
        return csv_reader_fail (reader, EL_ERR_PARSE, "empty code or name");
    if (!s_colour_ok (fields [S_COLOUR]))
        return csv_reader_fail (reader, EL_ERR_PARSE, "colour \"%s\" is not #rrggbb",
                                csv_reader_excerpt (fields [S_COLOUR], buffer));
    size_t other;
    if (strmap_get (self->codes, fields [S_CODE], &other))
        return csv_reader_fail (reader, EL_ERR_PARSE, "party %s appears twice",
                                csv_reader_excerpt (fields [S_CODE], buffer));
    party_entry_t *entries = csv_reader_grow (self->entries, &self->cap, self->count,
                                              sizeof *entries);
    if (!entries)
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    self->entries = entries;
    size_t index = self->count;
    party_entry_t *entry = &entries [index];
    entry->code = strdup (fields [S_CODE]);
    entry->name = strdup (fields [S_NAME]);
    entry->colour = strdup (fields [S_COLOUR]);
    self->count++;      //  counted at once, so that destroy frees what was copied
    if (!entry->code || !entry->name || !entry->colour
    ||  strmap_put (self->codes, entry->code, index))
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    el_err_t rc = s_spelling (reader, self, entry->code, index);
    if (!rc)
        rc = s_spelling (reader, self, entry->name, index);
    //  The aliases, one by one between the ';'
    for (char *alias = fields [S_ALIASES]; !rc && alias;) {
        char *end = strchr (alias, ';');
        if (end)
            *end = 0;
        rc = s_spelling (reader, self, alias, index);
        alias = end ? end + 1 : NULL;
    }
    return rc;
}

el_err_t
parties_load (const char *path, parties_t **self_p, char *err, size_t errlen)
{
    assert (path);
    assert (self_p);
    parties_t *self = calloc (1, sizeof *self);
    if (!self
    ||  !(self->codes = strmap_new_borrowed (64))
    ||  !(self->spellings = strmap_new (256))) {
        parties_destroy (&self);
        if (err && errlen)
            snprintf (err, errlen, "%s: out of memory", path);
        return EL_ERR_NOMEM;
    }
    el_err_t rc = csv_reader_read (path, s_columns, S_COLUMNS, s_row, self, err, errlen);
    if (rc)
        parties_destroy (&self);
    *self_p = self;
    return rc;
}

void
parties_destroy (parties_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    parties_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free ((char *) self->entries [i].code);
        free ((char *) self->entries [i].name);
        free ((char *) self->entries [i].colour);
    }
    free (self->entries);
    strmap_destroy (&self->codes);
    strmap_destroy (&self->spellings);
    free (self);
    *self_p = NULL;
}

const party_entry_t *
parties_find (const parties_t *self, const char *code)
{
    size_t index;
    if (!self || !code || !strmap_get (self->codes, code, &index))
        return NULL;
    return &self->entries [index];
}

const char *
parties_name (const parties_t *self, const char *code)
{
    const party_entry_t *entry = parties_find (self, code);
    return entry ? entry->name : code;
}

const char *
parties_colour (const parties_t *self, const char *code)
{
    const party_entry_t *entry = parties_find (self, code);
    return entry ? entry->colour : PARTIES_NEUTRAL_COLOUR;
}

const party_entry_t *
parties_match (const parties_t *self, const char *text)
{
    if (!self || !text)
        return NULL;
    char key [S_KEY_MAX];
    s_fold (text, key);
    size_t index;
    if (!*key || !strmap_get (self->spellings, key, &index))
        return NULL;
    return &self->entries [index];
}

size_t
parties_count (const parties_t *self)
{
    return self ? self->count : 0;
}

const party_entry_t *
parties_at (const parties_t *self, size_t index)
{
    return self && index < self->count ? &self->entries [index] : NULL;
}
