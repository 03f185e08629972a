/*
 * test-catalog — the accelerator catalog built by hand (A100, H100,
 * Ascend910B) and the resolution of names as feeds write them (SPEC §1):
 * short names in any case, product names with any punctuation via aliases,
 * Slurm GRES strings, white space; plus duplicate rows, aliases to unknown
 * models and the later alias winning.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "check.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Passes arrays through a pointer so CHECK_STR's NULL test does not trip -Waddress. */
static const char *str(const char *s)
{
    return s;
}

/* CHECK_EQ_LONG evaluates its arguments twice: give it the value, not the call. */
static void rc_is(long got, long want, const char *name)
{
    CHECK_EQ_LONG(got, want, name);
}

static struct catalog_entry entry(const char *model, const char *name, const char *vendor,
                                  bool domestic, double mem, double fp32, double bf16)
{
    struct catalog_entry e;
    memset(&e, 0, sizeof(e));
    snprintf(e.model, sizeof(e.model), "%s", model);
    snprintf(e.name, sizeof(e.name), "%s", name);
    snprintf(e.vendor, sizeof(e.vendor), "%s", vendor);
    e.domestic = domestic;
    e.memory_gib = mem;
    e.tflops[PREC_FP32] = fp32;
    e.tflops[PREC_BF16] = bf16;
    return e;
}

static void build(struct catalog *cat)
{
    memset(cat, 0, sizeof(*cat));
    struct catalog_entry a100 =
        entry("A100", "NVIDIA A100 SXM4 80GB", "NVIDIA", false, 80, 19.5, 312);
    struct catalog_entry h100 =
        entry("H100", "NVIDIA H100 SXM5 80GB", "NVIDIA", false, 80, 67, 989.5);
    struct catalog_entry ascend =
        entry("Ascend910B", "Huawei Ascend 910B", "Huawei", true, 64, 0, 320);
    rc_is(catalog_add(cat, &a100), 0, "catalog_add A100");
    /* The catalog keeps a copy: changing ours afterwards changes nothing. */
    snprintf(a100.vendor, sizeof(a100.vendor), "changed");
    a100.memory_gib = 1;
    rc_is(catalog_add(cat, &h100), 0, "catalog_add H100");
    rc_is(catalog_add(cat, &ascend), 0, "catalog_add Ascend910B");
    rc_is(catalog_alias(cat, "910B", "Ascend910B"), 0, "alias 910B");
    rc_is(catalog_alias(cat, "NVIDIA A100-SXM4-80GB", "A100"), 0, "alias DCGM A100 name");
    rc_is(catalog_alias(cat, "NVIDIA-H100-80GB-HBM3", "h100"), 0,
          "alias k8s H100 label (model named in another case)");
    CHECK_EQ_LONG(cat->nentries, 3, "three rows");
}

struct resolve_case {
    const char *name; /* NULL: a NULL name */
    const char *want; /* NULL: not found */
};

static const struct resolve_case resolve_cases[] = {
    /* exact */
    {"A100", "A100"},
    {"H100", "H100"},
    {"Ascend910B", "Ascend910B"},
    {"910B", "Ascend910B"},
    /* case-insensitive */
    {"a100", "A100"},
    {"h100", "H100"},
    {"ASCEND910B", "Ascend910B"},
    {"ascend910b", "Ascend910B"},
    {"910b", "Ascend910B"},
    /* punctuation-insensitive */
    {"NVIDIA A100-SXM4-80GB", "A100"},
    {"NVIDIA-A100-SXM4-80GB", "A100"},
    {"nvidia_a100_sxm4_80gb", "A100"},
    {"NVIDIA A100 SXM4 80GB", "A100"},
    {"NVIDIA-H100-80GB-HBM3", "H100"},
    {"NVIDIA H100 80GB HBM3", "H100"},
    {"Ascend-910B", "Ascend910B"},
    {"A-100", "A100"},
    {"a.100", "A100"},
    /* Slurm GRES */
    {"gpu:a100:8(S:0-1)", "A100"},
    {"gpu:h100:4", "H100"},
    {"GPU:910b:2(IDX:0-1)", "Ascend910B"},
    {"gpu:a100", "A100"},
    {"gpu:A100:8", "A100"},
    {"Gpu:ascend910b:16(S:0)", "Ascend910B"},
    {"a100:8", "A100"},
    /* white space */
    {"  A100", "A100"},
    {"\tA100", "A100"},
    {"A100  ", "A100"},
    {"  gpu:h100:4", "H100"},
    {" \n910B\n", "Ascend910B"},
    /* unknown and empty */
    {"V100", NULL},
    {"A10", NULL},   /* a prefix of A100 is another card */
    {"A1000", NULL}, /* so is an extension */
    {"H10", NULL},
    {"910", NULL},
    {"NVIDIA A100", NULL},
    {"gpu:v100:8", NULL},
    {"gpu:8", NULL}, /* untyped GRES */
    {"gpu:", NULL},
    {"", NULL},
    {"   ", NULL},
    {"---", NULL},
    {"(A100)", NULL},
    {NULL, NULL},
};

static void test_resolve(const struct catalog *cat)
{
    for (size_t i = 0; i < N(resolve_cases); i++) {
        const struct resolve_case *c = &resolve_cases[i];
        const struct catalog_entry *e = catalog_resolve(cat, c->name);
        /* Shown with control bytes as '?' so the TAP line stays one line. */
        char shown[40] = "NULL";
        if (c->name) {
            size_t j = 0;
            for (; c->name[j] && j + 1 < sizeof(shown); j++)
                shown[j] = (unsigned char)c->name[j] < 0x20 ? '?' : c->name[j];
            shown[j] = '\0';
        }
        if (c->want)
            CHECK(e && strcmp(e->model, c->want) == 0, "resolve \"%s\" -> %s (got %s)", shown,
                  c->want, e ? e->model : "NULL");
        else
            CHECK(e == NULL, "resolve \"%s\" -> NULL (got %s)", shown, e ? e->model : "NULL");
    }

    /* The row found carries what was added. */
    const struct catalog_entry *e = catalog_resolve(cat, "gpu:a100:8(S:0-1)");
    if (CHECK(e != NULL, "A100 found for its fields")) {
        CHECK_STR(str(e->name), "NVIDIA A100 SXM4 80GB", "A100 name");
        CHECK_STR(str(e->vendor), "NVIDIA", "A100 vendor (copy unaffected by later changes)");
        CHECK(!e->domestic, "A100 not domestic");
        CHECK_NEAR(e->memory_gib, 80, 0, "A100 memory");
        CHECK_NEAR(e->tflops[PREC_BF16], 312, 0, "A100 bf16");
        CHECK_NEAR(e->tflops[PREC_FP32], 19.5, 0, "A100 fp32");
        CHECK_NEAR(e->tflops[PREC_FP8], 0, 0, "A100 fp8 unsupported");
    }
    e = catalog_resolve(cat, "910B");
    if (CHECK(e != NULL, "910B found for its fields")) {
        CHECK_STR(str(e->vendor), "Huawei", "910B vendor");
        CHECK(e->domestic, "910B domestic");
        CHECK_NEAR(e->memory_gib, 64, 0, "910B memory");
    }
}

static void test_errors(struct catalog *cat)
{
    struct catalog_entry dup = entry("A100", "another", "x", false, 1, 1, 1);
    rc_is(catalog_add(cat, &dup), -EEXIST, "catalog_add duplicate A100");
    struct catalog_entry dup_case = entry("a100", "another", "x", false, 1, 1, 1);
    rc_is(catalog_add(cat, &dup_case), -EEXIST, "catalog_add duplicate a100 (case)");
    CHECK_EQ_LONG(cat->nentries, 3, "duplicates add no row");
    const struct catalog_entry *e = catalog_resolve(cat, "A100");
    CHECK(e && strcmp(e->vendor, "NVIDIA") == 0, "a refused duplicate leaves the first row");

    rc_is(catalog_alias(cat, "MLU370", "MLU370-X8"), -ENOENT, "alias to an unknown model");
    rc_is(catalog_alias(cat, "foo", ""), -ENOENT, "alias to an empty model name");
    CHECK(catalog_resolve(cat, "MLU370") == NULL, "a refused alias resolves to nothing");
    CHECK(catalog_alias(cat, "--", "A100") < 0, "an alias with no letters or digits is refused");
}

static void test_remap(struct catalog *cat)
{
    size_t naliases = cat->naliases;
    rc_is(catalog_alias(cat, "SXM-80", "A100"), 0, "alias SXM-80 -> A100");
    const struct catalog_entry *e = catalog_resolve(cat, "sxm80");
    CHECK(e && strcmp(e->model, "A100") == 0, "sxm80 -> A100 before re-mapping");
    /* The same name in another spelling, to another model: the later mapping wins. */
    rc_is(catalog_alias(cat, "sxm 80", "H100"), 0, "alias sxm 80 -> H100");
    e = catalog_resolve(cat, "SXM80");
    CHECK(e && strcmp(e->model, "H100") == 0, "SXM80 -> H100 after re-mapping (got %s)",
          e ? e->model : "NULL");
    CHECK_EQ_LONG(cat->naliases, naliases + 1, "re-mapping replaces, it does not add");
    /* Re-mapping one alias leaves the others alone. */
    e = catalog_resolve(cat, "NVIDIA-A100-SXM4-80GB");
    CHECK(e && strcmp(e->model, "A100") == 0, "other aliases unchanged");
    e = catalog_resolve(cat, "H100");
    CHECK(e && strcmp(e->model, "H100") == 0, "H100 itself unchanged");
}

static void test_free(struct catalog *cat)
{
    catalog_free(cat);
    CHECK(cat->entries == NULL && cat->nentries == 0 && cat->aliases == NULL && cat->naliases == 0,
          "catalog_free empties the catalog");
    CHECK(catalog_resolve(cat, "A100") == NULL, "an empty catalog resolves nothing");
    catalog_free(NULL);
    /* The struct may be reused. */
    struct catalog_entry h20 = entry("H20", "NVIDIA H20 96GB", "NVIDIA", false, 96, 44, 148);
    rc_is(catalog_add(cat, &h20), 0, "catalog_add after free");
    const struct catalog_entry *e = catalog_resolve(cat, "gpu:h20:8");
    CHECK(e && strcmp(e->model, "H20") == 0, "reused catalog resolves");
    catalog_free(cat);
}

int main(void)
{
    struct catalog cat;
    build(&cat);
    test_resolve(&cat);
    test_errors(&cat);
    test_remap(&cat);
    test_free(&cat);
    return check_done();
}
