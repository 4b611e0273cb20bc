/*  projection.c: the seat projection (see projection.h, README "Projection").

    One update reads every seat of the tally three times:
      1. declared seats: who won, and each party's declared votes per nation
         (which parties are worth modelling);
      2. declared seats with figures: the moments of the regression (sums of
         baseline shares, changes, and their cross products), so the fit
         needs no per-seat storage;
      3. undeclared seats: projected shares, the leader, each party's chance,
         and the sensitivity of the expected seats to the fitted mean
         changes (for the range).
    Everything per nation is a small dense problem over at most S_KMAX
    parties; everything per party is an array indexed by the tally's dense
    party ids. The arrays grow only when the tally gains a party, before
    anything is overwritten, so a failed update leaves the last projection. */

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projection.h"

//  Parties modelled per nation at most: the largest by share. Bounds the
//  per-seat cost (S_KMAX^2); a UK nation has had at most 8 parties above 1%.
#define S_KMAX 12
#define S_NONE SIZE_MAX
//  A party's seat-level scatter grows with its share in the seat (as it
//  would if its votes moved in proportion): variance ~ share + S_SCATTER_FLOOR,
//  the floor for a party new to a seat, which still varies somewhat.
#define S_SCATTER_FLOOR 0.05

typedef struct {
    size_t scope;               //  the tally's scope index of the nation
    const char *name;           //  borrowed from the tally
    size_t *seats;              //  seat indexes in the nation
    size_t n_seats;

    //  The baseline, per party id known at projection_new (never changes)
    size_t n_base_parties;
    double *base_votes;         //  votes in the nation
    double *base_mean;          //  mean share over the nation's seats
    bool *base_won;             //  won a seat in the nation
    double base_total;

    //  Per party id (cap entries), recomputed by each update
    int *col;                   //  column in the model, or -1
    double *decl_votes;
    int *decl_won;
    double *expected;           //  expected seats among the undeclared
    double *var;                //  variance of that
    int *winners;               //  undeclared seats projected to it
    int *total;                 //  declared + rounded expected

    //  The model
    size_t k;
    size_t party [S_KMAX];      //  party id of each column
    size_t n_fit;               //  declared seats with figures
    size_t n_declared;
    double decl_total;
    double n_moment;
    double sx [S_KMAX], sd [S_KMAX];
    double scale [S_KMAX];      //  mean of share + S_SCATTER_FLOOR over the fit
    double sxx [S_KMAX][S_KMAX], sxd [S_KMAX][S_KMAX], sdd [S_KMAX][S_KMAX];
    double xbar [S_KMAX];
    double c [S_KMAX];          //  mean change at xbar
    double vc [S_KMAX];         //  its posterior variance
    double vslope [S_KMAX];     //  posterior variance of the own slope beta [p][p]
    double beta [S_KMAX][S_KMAX];   //  beta [p][q]: change of p per share of q
    double res [S_KMAX][S_KMAX];    //  seat-level residual covariance
    double grad [S_KMAX][S_KMAX];   //  d expected_p / d c_q
    double grad_slope [S_KMAX][S_KMAX]; //  d expected_p / d beta_qq
} s_nation_t;

struct projection {
    const tally_t *tally;
    projection_options_t opts;
    double z;                   //  normal quantile of the range

    s_nation_t *nations;
    size_t n_nations;
    size_t *seat_nation;        //  per seat
    size_t *winner;             //  per seat: projected party id, or S_NONE
    bool *declared;             //  per seat, as of the last update
    double *confidence;         //  per seat
    size_t n_seats;
    bool updated;

    size_t cap;                 //  party ids the per-party arrays hold
    //  Pooled over nations, per party id: seats, sum and sum of squares of
    //  the change, for the prior of each nation (the others' figures)
    double *pool_n, *pool_s, *pool_ss;

    //  Views: scope 0 is the UK, then the nations
    projection_view_t *views;
    projection_party_t **lines;     //  per scope, cap entries
    int *uk_seats, *uk_declared, *uk_winners;
    double *uk_expected, *uk_var;
};


//  ---------------------------------------------------------------------
//  Small numerics

static double
s_phi_cdf (double z)
{
    return 0.5 * erfc (-z / M_SQRT2);
}

static double
s_phi_pdf (double z)
{
    return exp (-0.5 * z * z) / sqrt (2.0 * M_PI);
}

//  The z with P(Z < z) = p, by bisection: called once per projection_new.
static double
s_phi_quantile (double p)
{
    double lo = -10.0, hi = 10.0;
    for (int i = 0; i < 100; i++) {
        double mid = (lo + hi) / 2.0;
        if (s_phi_cdf (mid) < p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2.0;
}

//  Solves A x = b for a symmetric positive definite A (n x n, row stride
//  S_KMAX) by Cholesky, in place of a copy. A is positive definite here
//  because a ridge term is always added to a moment matrix.
static void
s_solve (double a [S_KMAX][S_KMAX], const double *b, double *x, size_t n)
{
    double l [S_KMAX][S_KMAX];
    double y [S_KMAX];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double sum = a [i][j];
            for (size_t k = 0; k < j; k++)
                sum -= l [i][k] * l [j][k];
            if (i == j)
                l [i][i] = sqrt (sum > 1e-300? sum: 1e-300);
            else
                l [i][j] = sum / l [j][j];
        }
    for (size_t i = 0; i < n; i++) {
        double sum = b [i];
        for (size_t k = 0; k < i; k++)
            sum -= l [i][k] * y [k];
        y [i] = sum / l [i][i];
    }
    for (size_t i = n; i-- > 0; ) {
        double sum = y [i];
        for (size_t k = i + 1; k < n; k++)
            sum -= l [k][i] * x [k];
        x [i] = sum / l [i][i];
    }
}


//  ---------------------------------------------------------------------
//  Construction

void
projection_options_default (projection_options_t *opts)
{
    assert (opts);
    opts->min_share = 0.01;
    opts->tau_national = 0.10;
    opts->tau_nation = 0.04;
    opts->tau_slope = 0.25;
    opts->sigma0 = 0.04;
    opts->nu0 = 5.0;
    opts->confidence = 0.90;
}

static bool
s_options_valid (const projection_options_t *opts)
{
    return opts->min_share >= 0.0 && opts->min_share < 1.0
        && opts->tau_national > 0.0 && opts->tau_nation > 0.0
        && opts->tau_slope > 0.0 && opts->sigma0 > 0.0 && opts->nu0 > 0.0
        && opts->confidence > 0.0 && opts->confidence < 1.0
        && isfinite (opts->tau_national + opts->tau_nation + opts->tau_slope
                     + opts->sigma0 + opts->nu0);
}

//  Grows every per-party array to hold `need` party ids. Each array is
//  stored as soon as it has grown, so a failure leaves nothing dangling
//  and cap stays the minimum of what all hold.
static el_err_t
s_reserve (projection_t *self, size_t need)
{
    if (need <= self->cap)
        return EL_OK;
    size_t cap = self->cap? self->cap: 32;
    while (cap < need)
        cap *= 2;
#define S_GROW(ptr) do { \
        void *grown = realloc ((ptr), cap * sizeof (*(ptr))); \
        if (!grown) return EL_ERR_NOMEM; \
        (ptr) = grown; \
    } while (0)
    for (size_t n = 0; n < self->n_nations; n++) {
        s_nation_t *nation = &self->nations [n];
        S_GROW (nation->col);
        S_GROW (nation->decl_votes);
        S_GROW (nation->decl_won);
        S_GROW (nation->expected);
        S_GROW (nation->var);
        S_GROW (nation->winners);
        S_GROW (nation->total);
    }
    S_GROW (self->pool_n);
    S_GROW (self->pool_s);
    S_GROW (self->pool_ss);
    S_GROW (self->uk_seats);
    S_GROW (self->uk_declared);
    S_GROW (self->uk_winners);
    S_GROW (self->uk_expected);
    S_GROW (self->uk_var);
    for (size_t s = 0; s <= self->n_nations; s++)
        S_GROW (self->lines [s]);
#undef S_GROW
    self->cap = cap;
    return EL_OK;
}

//  The nation's baseline: votes, mean shares and seats won per party.
static el_err_t
s_nation_baseline (projection_t *self, s_nation_t *nation)
{
    size_t n_parties = tally_party_count (self->tally);
    nation->n_base_parties = n_parties;
    nation->base_votes = calloc (n_parties + 1, sizeof (double));
    nation->base_mean = calloc (n_parties + 1, sizeof (double));
    nation->base_won = calloc (n_parties + 1, sizeof (bool));
    if (!nation->base_votes || !nation->base_mean || !nation->base_won)
        return EL_ERR_NOMEM;
    for (size_t i = 0; i < nation->n_seats; i++) {
        seat_baseline_t base;
        tally_seat_baseline (self->tally, nation->seats [i], &base);
        for (size_t b = 0; b < base.n_parties; b++) {
            nation->base_votes [base.parties [b].party_id] += base.parties [b].votes;
            nation->base_mean [base.parties [b].party_id] += base.parties [b].share / 100.0;
        }
        nation->base_total += (double) base.valid_votes;
        if (base.winner)
            nation->base_won [base.winner_id] = true;
    }
    for (size_t p = 0; p < n_parties; p++)
        nation->base_mean [p] /= (double) nation->n_seats;
    return EL_OK;
}

projection_t *
projection_new (const tally_t *tally, const projection_options_t *opts)
{
    if (!tally)
        return NULL;
    projection_options_t defaults;
    projection_options_default (&defaults);
    if (!opts)
        opts = &defaults;
    if (!s_options_valid (opts))
        return NULL;
    projection_t *self = calloc (1, sizeof (projection_t));
    if (!self)
        return NULL;
    self->tally = tally;
    self->opts = *opts;
    self->z = s_phi_quantile (0.5 + opts->confidence / 2.0);
    self->n_seats = tally_seats_total (tally);
    self->seat_nation = calloc (self->n_seats, sizeof (size_t));
    self->winner = malloc (self->n_seats * sizeof (size_t));
    self->confidence = calloc (self->n_seats, sizeof (double));
    self->declared = calloc (self->n_seats, sizeof (bool));
    //  Nations: the country scope of each seat (the second of its scopes)
    size_t n_scopes = tally_scope_count (tally);
    size_t *nation_of_scope = malloc (n_scopes * sizeof (size_t));
    self->nations = calloc (n_scopes, sizeof (s_nation_t));
    if (!self->seat_nation || !self->winner || !self->confidence || !self->declared
    ||  !nation_of_scope || !self->nations)
        goto failed;
    for (size_t s = 0; s < n_scopes; s++)
        nation_of_scope [s] = S_NONE;
    for (size_t i = 0; i < self->n_seats; i++) {
        self->winner [i] = S_NONE;
        size_t scopes [3];
        size_t n = tally_seat_scopes (tally, i, scopes);
        size_t scope = n > 1? scopes [1]: scopes [0];
        if (nation_of_scope [scope] == S_NONE) {
            nation_of_scope [scope] = self->n_nations;
            s_nation_t *nation = &self->nations [self->n_nations++];
            nation->scope = scope;
            nation->name = tally_scope_name (tally, scope);
        }
        self->seat_nation [i] = nation_of_scope [scope];
        self->nations [self->seat_nation [i]].n_seats++;
    }
    for (size_t n = 0; n < self->n_nations; n++) {
        s_nation_t *nation = &self->nations [n];
        nation->seats = malloc (nation->n_seats * sizeof (size_t));
        if (!nation->seats)
            goto failed;
        nation->n_seats = 0;
    }
    for (size_t i = 0; i < self->n_seats; i++) {
        s_nation_t *nation = &self->nations [self->seat_nation [i]];
        nation->seats [nation->n_seats++] = i;
    }
    for (size_t n = 0; n < self->n_nations; n++)
        if (s_nation_baseline (self, &self->nations [n]))
            goto failed;
    self->views = calloc (self->n_nations + 1, sizeof (projection_view_t));
    self->lines = calloc (self->n_nations + 1, sizeof (projection_party_t *));
    if (!self->views || !self->lines
    ||  s_reserve (self, tally_party_count (tally)))
        goto failed;
    free (nation_of_scope);
    return self;

failed:
    free (nation_of_scope);
    projection_destroy (&self);
    return NULL;
}

void
projection_destroy (projection_t **self_p)
{
    assert (self_p);
    projection_t *self = *self_p;
    if (!self)
        return;
    for (size_t n = 0; n < self->n_nations; n++) {
        s_nation_t *nation = &self->nations [n];
        free (nation->seats);
        free (nation->base_votes);
        free (nation->base_mean);
        free (nation->base_won);
        free (nation->col);
        free (nation->decl_votes);
        free (nation->decl_won);
        free (nation->expected);
        free (nation->var);
        free (nation->winners);
        free (nation->total);
    }
    free (self->nations);
    free (self->seat_nation);
    free (self->winner);
    free (self->confidence);
    free (self->declared);
    free (self->pool_n);
    free (self->pool_s);
    free (self->pool_ss);
    if (self->lines)
        for (size_t s = 0; s <= self->n_nations; s++)
            free (self->lines [s]);
    free (self->lines);
    free (self->views);
    free (self->uk_seats);
    free (self->uk_declared);
    free (self->uk_winners);
    free (self->uk_expected);
    free (self->uk_var);
    free (self);
    *self_p = NULL;
}


//  ---------------------------------------------------------------------
//  One update

//  Pass 1: who won the declared seats, and the parties' declared votes.
static void
s_pass_declared (projection_t *self, size_t n_parties)
{
    for (size_t n = 0; n < self->n_nations; n++) {
        s_nation_t *nation = &self->nations [n];
        for (size_t p = 0; p < n_parties; p++) {
            nation->col [p] = -1;
            nation->decl_votes [p] = 0.0;
            nation->decl_won [p] = 0;
            nation->expected [p] = 0.0;
            nation->var [p] = 0.0;
            nation->winners [p] = 0;
            nation->total [p] = 0;
        }
        nation->k = 0;
        nation->n_fit = 0;
        nation->n_declared = 0;
        nation->decl_total = 0.0;
    }
    for (size_t i = 0; i < self->n_seats; i++) {
        seat_view_t view;
        tally_seat (self->tally, i, &view);
        self->winner [i] = S_NONE;
        self->confidence [i] = 0.0;
        self->declared [i] = view.declared;
        if (!view.declared)
            continue;
        s_nation_t *nation = &self->nations [self->seat_nation [i]];
        nation->n_declared++;
        if (view.n_candidates)
            nation->decl_won [view.candidates [0].party_id]++;
        if (view.kind != DECL_RESULT || view.valid_votes == 0)
            continue;       //  a rush: a seat, but no shares
        for (size_t c = 0; c < view.n_candidates; c++)
            nation->decl_votes [view.candidates [c].party_id] += view.candidates [c].votes;
        nation->decl_total += (double) view.valid_votes;
    }
}

//  The parties modelled in a nation: every baseline seat winner, and every
//  party with min_share of the baseline or the declared votes, the largest
//  S_KMAX of them. The rest win no projected seat and need no column.
static void
s_select (projection_t *self, s_nation_t *nation, size_t n_parties)
{
    double score [S_KMAX];
    size_t k = 0;
    for (size_t p = 0; p < n_parties; p++) {
        bool known = p < nation->n_base_parties;
        double base = known && nation->base_total > 0?
                      nation->base_votes [p] / nation->base_total: 0.0;
        double decl = nation->decl_total > 0? nation->decl_votes [p] / nation->decl_total: 0.0;
        bool won = known && nation->base_won [p];
        if (!won && base < self->opts.min_share && decl < self->opts.min_share)
            continue;
        double mine = base + decl + (won? 1.0: 0.0);
        //  Insertion into the sorted top S_KMAX (ties: the lower id first)
        size_t at = k;
        while (at > 0 && score [at - 1] < mine)
            at--;
        if (at >= S_KMAX)
            continue;
        size_t last = k < S_KMAX? k: S_KMAX - 1;
        for (size_t j = last; j > at; j--) {
            score [j] = score [j - 1];
            nation->party [j] = nation->party [j - 1];
        }
        score [at] = mine;
        nation->party [at] = p;
        if (k < S_KMAX)
            k++;
    }
    nation->k = k;
    for (size_t j = 0; j < k; j++)
        nation->col [nation->party [j]] = (int) j;
}

//  A seat's baseline shares over the nation's columns (fractions).
static void
s_seat_x (const projection_t *self, const s_nation_t *nation, size_t seat, double *x)
{
    for (size_t j = 0; j < nation->k; j++)
        x [j] = 0.0;
    seat_baseline_t base;
    tally_seat_baseline (self->tally, seat, &base);
    for (size_t b = 0; b < base.n_parties; b++) {
        int col = nation->col [base.parties [b].party_id];
        if (col >= 0)
            x [col] += base.parties [b].share / 100.0;
    }
}

//  Pass 2: the moments of the regression over the seats with figures.
static void
s_pass_moments (projection_t *self)
{
    for (size_t n = 0; n < self->n_nations; n++) {
        s_nation_t *nation = &self->nations [n];
        size_t k = nation->k;
        memset (nation->sx, 0, sizeof nation->sx);
        memset (nation->sd, 0, sizeof nation->sd);
        memset (nation->scale, 0, sizeof nation->scale);
        memset (nation->sxx, 0, sizeof nation->sxx);
        memset (nation->sxd, 0, sizeof nation->sxd);
        memset (nation->sdd, 0, sizeof nation->sdd);
        for (size_t s = 0; s < nation->n_seats && k; s++) {
            size_t i = nation->seats [s];
            if (!self->declared [i])
                continue;
            seat_view_t view;
            tally_seat (self->tally, i, &view);
            if (view.kind != DECL_RESULT || view.valid_votes == 0)
                continue;
            double x [S_KMAX], d [S_KMAX];
            s_seat_x (self, nation, i, x);
            for (size_t j = 0; j < k; j++)
                d [j] = -x [j];
            for (size_t c = 0; c < view.n_candidates; c++) {
                int col = nation->col [view.candidates [c].party_id];
                if (col >= 0)
                    d [col] += (double) view.candidates [c].votes / (double) view.valid_votes;
            }
            nation->n_fit++;
            for (size_t p = 0; p < k; p++) {
                nation->sx [p] += x [p];
                nation->scale [p] += x [p] + S_SCATTER_FLOOR;
                nation->sd [p] += d [p];
                for (size_t q = 0; q < k; q++) {
                    nation->sxx [p][q] += x [p] * x [q];
                    nation->sxd [p][q] += x [p] * d [q];
                    nation->sdd [p][q] += d [p] * d [q];
                }
            }
        }
    }
}

//  The other nations' mean change of a party, as the prior of this
//  nation's: *mean and *var (sd tau_national about no change).
static void
s_pooled_prior (const projection_t *self, const s_nation_t *nation, size_t p,
                double *mean, double *var)
{
    const projection_options_t *o = &self->opts;
    size_t id = nation->party [p];
    double n = self->pool_n [id] - (double) nation->n_fit;
    double sum = self->pool_s [id] - nation->sd [p];
    double squares = self->pool_ss [id] - nation->sdd [p][p];
    double tau2 = o->tau_national * o->tau_national;
    *mean = 0.0;
    *var = tau2;
    if (n < 0.5)
        return;
    double spread = squares - sum * sum / n;
    double s2 = (o->nu0 * o->sigma0 * o->sigma0 + (spread > 0? spread: 0.0)) / (o->nu0 + n);
    double precision = n / s2 + 1.0 / tau2;
    *mean = sum / s2 / precision;
    *var = 1.0 / precision;
}

//  Fits the nation's model: mean changes c, slopes beta, residual
//  covariance res (see projection.h for the priors).
static void
s_fit (projection_t *self, s_nation_t *nation)
{
    const projection_options_t *o = &self->opts;
    size_t k = nation->k;
    double n = (double) nation->n_fit;
    double prior0 = o->nu0 * o->sigma0 * o->sigma0;
    double dbar [S_KMAX];
    double sxx [S_KMAX][S_KMAX], sxd [S_KMAX][S_KMAX], sdd [S_KMAX][S_KMAX];
    for (size_t p = 0; p < k; p++) {
        size_t id = nation->party [p];
        nation->xbar [p] = n > 0? nation->sx [p] / n:
                           id < nation->n_base_parties? nation->base_mean [id]: 0.0;
        dbar [p] = n > 0? nation->sd [p] / n: 0.0;
        nation->scale [p] = n > 0? nation->scale [p] / n: nation->xbar [p] + S_SCATTER_FLOOR;
    }
    for (size_t p = 0; p < k; p++)
        for (size_t q = 0; q < k; q++) {
            sxx [p][q] = nation->sxx [p][q] - n * nation->xbar [p] * nation->xbar [q];
            sxd [p][q] = nation->sxd [p][q] - n * nation->xbar [p] * dbar [q];
            sdd [p][q] = nation->sdd [p][q] - n * dbar [p] * dbar [q];
        }
    double tau_slope2 = o->tau_slope * o->tau_slope;
    for (size_t p = 0; p < k; p++) {
        double mean, var;
        s_pooled_prior (self, nation, p, &mean, &var);
        double vprior = o->tau_nation * o->tau_nation + var;
        double s2 = (prior0 + (sdd [p][p] > 0? sdd [p][p]: 0.0)) / (o->nu0 + n);
        //  Twice: the scatter s2 sets the shrinkage, the fit sets the scatter
        for (int round = 0; round < 2; round++) {
            double precision = n / s2 + 1.0 / vprior;
            double c = (n * dbar [p] / s2 + mean / vprior) / precision;
            nation->c [p] = c;
            nation->vc [p] = 1.0 / precision;
            //  A losing party loses in proportion to its strength
            double ratio = 1.0;
            if (nation->xbar [p] > 1e-3) {
                ratio = (nation->xbar [p] + c) / nation->xbar [p];
                ratio = ratio < 0? 0: ratio > 1? 1: ratio;
            }
            double lambda = s2 / tau_slope2;
            double a [S_KMAX][S_KMAX], b [S_KMAX];
            for (size_t q = 0; q < k; q++) {
                for (size_t r = 0; r < k; r++)
                    a [q][r] = sxx [q][r] + (q == r? lambda: 0.0);
                b [q] = sxd [q][p] + (q == p? lambda * (ratio - 1.0): 0.0);
            }
            s_solve (a, b, nation->beta [p], k);
            const double *beta = nation->beta [p];
            double rss = sdd [p][p] + n * (c - dbar [p]) * (c - dbar [p]);
            for (size_t q = 0; q < k; q++) {
                rss -= 2.0 * beta [q] * sxd [q][p];
                for (size_t r = 0; r < k; r++)
                    rss += beta [q] * sxx [q][r] * beta [r];
            }
            s2 = (prior0 + (rss > 0? rss: 0.0)) / (o->nu0 + n);
            if (round == 1) {
                //  The own slope's posterior variance: s2 (A^-1)_pp
                double unit [S_KMAX] = { 0 }, column [S_KMAX];
                unit [p] = 1.0;
                s_solve (a, unit, column, k);
                nation->vslope [p] = s2 * column [p];
            }
        }
    }
    //  Residual covariance: how parties' seat-level errors go together
    for (size_t p = 0; p < k; p++)
        for (size_t q = p; q < k; q++) {
            const double *bp = nation->beta [p];
            const double *bq = nation->beta [q];
            double e = sdd [p][q] + n * (nation->c [p] - dbar [p]) * (nation->c [q] - dbar [q]);
            for (size_t r = 0; r < k; r++) {
                e -= bp [r] * sxd [r][q] + bq [r] * sxd [r][p];
                for (size_t s = 0; s < k; s++)
                    e += bp [r] * sxx [r][s] * bq [s];
            }
            double value = ((p == q? prior0: 0.0) + e) / (o->nu0 + n);
            nation->res [p][q] = nation->res [q][p] = value;
        }
}

//  Pass 3: projects the nation's undeclared seats.
static void
s_project (projection_t *self, s_nation_t *nation)
{
    size_t k = nation->k;
    memset (nation->grad, 0, sizeof nation->grad);
    memset (nation->grad_slope, 0, sizeof nation->grad_slope);
    for (size_t s = 0; s < nation->n_seats; s++) {
        size_t i = nation->seats [s];
        if (self->declared [i])
            continue;
        if (k == 0) {
            //  Nothing modelled (a nation of empty seats): the baseline stands
            seat_baseline_t base;
            tally_seat_baseline (self->tally, i, &base);
            if (base.winner) {
                self->winner [i] = base.winner_id;
                self->confidence [i] = 1.0;
                nation->expected [base.winner_id] += 1.0;
                nation->winners [base.winner_id]++;
            }
            continue;
        }
        double x [S_KMAX], y [S_KMAX], h [S_KMAX];
        s_seat_x (self, nation, i, x);
        size_t lead = 0;
        for (size_t p = 0; p < k; p++) {
            double value = x [p] + nation->c [p];
            for (size_t q = 0; q < k; q++)
                value += nation->beta [p][q] * (x [q] - nation->xbar [q]);
            y [p] = value > 0? value: 0.0;
            h [p] = sqrt ((x [p] + S_SCATTER_FLOOR) / nation->scale [p]);
            if (y [p] > y [lead])
                lead = p;
        }
        //  Chances pair by pair against the leader, from the seat-level
        //  scatter of the margin; a contender more than 8 sd behind has none
        double weight [S_KMAX], density [S_KMAX];
        double lead_weight = 1.0, sum = 0.0;
        for (size_t q = 0; q < k; q++) {
            weight [q] = density [q] = 0.0;
            if (q == lead)
                continue;
            double var = nation->res [lead][lead] * h [lead] * h [lead]
                       + nation->res [q][q] * h [q] * h [q]
                       - 2.0 * nation->res [lead][q] * h [lead] * h [q];
            double sd = sqrt (var > 1e-8? var: 1e-8);
            double z = (y [q] - y [lead]) / sd;
            if (z < -8.0)
                continue;
            weight [q] = s_phi_cdf (z);
            density [q] = s_phi_pdf (z) / sd;
            lead_weight *= 1.0 - weight [q];
            sum += weight [q];
        }
        weight [lead] = lead_weight;
        sum += lead_weight;
        for (size_t q = 0; q < k; q++) {
            double chance = weight [q] / sum;
            nation->expected [nation->party [q]] += chance;
            nation->var [nation->party [q]] += chance * (1.0 - chance);
            if (q == lead || density [q] == 0.0)
                continue;
            nation->grad [q][q] += density [q];
            nation->grad [q][lead] -= density [q];
            nation->grad [lead][lead] += density [q];
            nation->grad [lead][q] -= density [q];
            double off_q = density [q] * (x [q] - nation->xbar [q]);
            double off_lead = density [q] * (x [lead] - nation->xbar [lead]);
            nation->grad_slope [q][q] += off_q;
            nation->grad_slope [q][lead] -= off_lead;
            nation->grad_slope [lead][lead] += off_lead;
            nation->grad_slope [lead][q] -= off_q;
        }
        self->winner [i] = nation->party [lead];
        self->confidence [i] = weight [lead] / sum;
        nation->winners [nation->party [lead]]++;
    }
    //  The uncertainty of the fitted mean changes and own slopes moves many
    //  seats at once: its share of the variance is grad' Cov grad (delta
    //  method), parties' estimates correlated as their seat-level errors are
    for (size_t p = 0; p < k; p++) {
        double var = 0.0;
        for (size_t q = 0; q < k; q++)
            for (size_t r = 0; r < k; r++) {
                double rho = nation->res [q][r]
                           / sqrt (nation->res [q][q] * nation->res [r][r] + 1e-300);
                var += rho * (nation->grad [p][q] * nation->grad [p][r]
                              * sqrt (nation->vc [q] * nation->vc [r])
                            + nation->grad_slope [p][q] * nation->grad_slope [p][r]
                              * sqrt (nation->vslope [q] * nation->vslope [r]));
            }
        nation->var [nation->party [p]] += var > 0? var: 0.0;
    }
}

//  Rounds the nation's expected seats so that they add up to its
//  undeclared seats (largest remainders), into total = declared + rounded.
static void
s_round (s_nation_t *nation, size_t n_parties)
{
    long undeclared = (long) nation->n_seats - (long) nation->n_declared;
    long given = 0;
    for (size_t p = 0; p < n_parties; p++) {
        long whole = (long) floor (nation->expected [p] + 1e-9);
        nation->total [p] = nation->decl_won [p] + (int) whole;
        given += whole;
    }
    for (long left = undeclared - given; left > 0; left--) {
        size_t best = S_NONE;
        double best_rest = -1.0;
        for (size_t p = 0; p < n_parties; p++) {
            double rest = nation->expected [p] - floor (nation->expected [p] + 1e-9);
            bool taken = nation->total [p] - nation->decl_won [p]
                       > (int) floor (nation->expected [p] + 1e-9);
            if (!taken && rest > best_rest) {
                best = p;
                best_rest = rest;
            }
        }
        if (best == S_NONE)
            break;
        nation->total [best]++;
    }
}

static int
s_line_cmp (const void *a, const void *b)
{
    const projection_party_t *x = a;
    const projection_party_t *y = b;
    if (x->seats != y->seats)
        return x->seats > y->seats? -1: 1;
    if (x->expected != y->expected)
        return x->expected > y->expected? -1: 1;
    return strcmp (x->party, y->party);
}

//  Fills one scope's view from per-party figures.
static void
s_view (projection_t *self, size_t index, const char *scope, size_t n_parties,
        const int *seats, const int *declared, const int *winners,
        const double *expected, const double *var, size_t seats_total,
        size_t n_declared, size_t based_on)
{
    projection_view_t *view = &self->views [index];
    projection_party_t *lines = self->lines [index];
    memset (view, 0, sizeof (projection_view_t));
    view->scope = scope;
    view->based_on = based_on;
    view->declared = n_declared;
    view->seats_total = seats_total;
    view->majority_line = seats_total / 2 + 1;
    view->has_basis = based_on > 0;
    int undeclared = (int) (seats_total - n_declared);
    size_t n = 0;
    for (size_t p = 0; p < n_parties; p++) {
        double mean = declared [p] + expected [p];
        double spread = self->z * sqrt (var [p]);
        long low = lround (mean - spread);
        long high = lround (mean + spread);
        if (low < declared [p])
            low = declared [p];
        if (high > declared [p] + undeclared)
            high = declared [p] + undeclared;
        if (low > seats [p])
            low = seats [p];
        if (high < seats [p])
            high = seats [p];
        if (seats [p] == 0 && high == 0)
            continue;
        projection_party_t *line = &lines [n++];
        line->party = tally_party_name (self->tally, p);
        line->seats = seats [p];
        line->low = (int) low;
        line->high = (int) high;
        line->declared = declared [p];
        line->winners = declared [p] + winners [p];
        line->expected = mean;
    }
    qsort (lines, n, sizeof (projection_party_t), s_line_cmp);
    view->parties = lines;
    view->n_parties = n;
    if (n == 0 || lines [0].seats == 0)
        return;
    view->largest = lines [0].party;
    int needed = (int) view->majority_line;
    view->majority = lines [0].seats >= needed;
    view->margin = view->majority? 2 * lines [0].seats - (int) seats_total:
                                   needed - lines [0].seats;
    if (index != 0)
        return;     //  a verdict speaks of the parliament, not of a nation
    if (!view->has_basis)
        snprintf (view->verdict, sizeof view->verdict,
                  "No projection: no full result yet");
    else
    if (view->majority)
        snprintf (view->verdict, sizeof view->verdict, "%.40s majority of %d",
                  view->largest, view->margin);
    else
        snprintf (view->verdict, sizeof view->verdict,
                  "Hung parliament: %.40s %d short of %zu",
                  view->largest, view->margin, view->majority_line);
}

el_err_t
projection_update (projection_t *self)
{
    assert (self);
    size_t n_parties = tally_party_count (self->tally);
    if (s_reserve (self, n_parties))
        return EL_ERR_NOMEM;
    s_pass_declared (self, n_parties);
    for (size_t n = 0; n < self->n_nations; n++)
        s_select (self, &self->nations [n], n_parties);
    s_pass_moments (self);
    for (size_t p = 0; p < n_parties; p++)
        self->pool_n [p] = self->pool_s [p] = self->pool_ss [p] = 0.0;
    for (size_t n = 0; n < self->n_nations; n++) {
        s_nation_t *nation = &self->nations [n];
        for (size_t p = 0; p < nation->k; p++) {
            self->pool_n [nation->party [p]] += (double) nation->n_fit;
            self->pool_s [nation->party [p]] += nation->sd [p];
            self->pool_ss [nation->party [p]] += nation->sdd [p][p];
        }
    }
    size_t based_on = 0, declared = 0;
    for (size_t p = 0; p < n_parties; p++) {
        self->uk_seats [p] = self->uk_declared [p] = self->uk_winners [p] = 0;
        self->uk_expected [p] = self->uk_var [p] = 0.0;
    }
    for (size_t n = 0; n < self->n_nations; n++) {
        s_nation_t *nation = &self->nations [n];
        s_fit (self, nation);
        s_project (self, nation);
        s_round (nation, n_parties);
        s_view (self, n + 1, nation->name, n_parties, nation->total, nation->decl_won,
                nation->winners, nation->expected, nation->var, nation->n_seats,
                nation->n_declared, nation->n_fit);
        based_on += nation->n_fit;
        declared += nation->n_declared;
        for (size_t p = 0; p < n_parties; p++) {
            self->uk_seats [p] += nation->total [p];
            self->uk_declared [p] += nation->decl_won [p];
            self->uk_winners [p] += nation->winners [p];
            self->uk_expected [p] += nation->expected [p];
            //  Nations' errors taken as independent of one another
            self->uk_var [p] += nation->var [p];
        }
    }
    s_view (self, 0, "UK", n_parties, self->uk_seats, self->uk_declared, self->uk_winners,
            self->uk_expected, self->uk_var, self->n_seats, declared, based_on);
    self->updated = true;
    return EL_OK;
}


//  ---------------------------------------------------------------------
//  Views

size_t
projection_scope_count (const projection_t *self)
{
    assert (self);
    return self->n_nations + 1;
}

void
projection_scope (const projection_t *self, size_t index, projection_view_t *view)
{
    assert (self);
    assert (view);
    memset (view, 0, sizeof (projection_view_t));
    if (index > self->n_nations)
        return;
    if (!self->updated) {
        view->scope = index? self->nations [index - 1].name: "UK";
        snprintf (view->verdict, sizeof view->verdict, "No projection yet");
        return;
    }
    *view = self->views [index];
}

const char *
projection_seat_winner (const projection_t *self, size_t seat)
{
    assert (self);
    if (!self->updated || seat >= self->n_seats || self->winner [seat] == S_NONE)
        return NULL;
    return tally_party_name (self->tally, self->winner [seat]);
}

double
projection_seat_confidence (const projection_t *self, size_t seat)
{
    assert (self);
    if (!self->updated || seat >= self->n_seats || self->winner [seat] == S_NONE)
        return 0.0;
    return self->confidence [seat];
}
