/*
 * Unit tests for cli/args.c, the kith subcommand option parser. The source
 * is compiled in here because the CLI is a program, not a library.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../cli/args.c"

static const struct args_opt post_opts[] = {
    {.name = "group", .shortopt = 'g', .has_value = 1, .meta = "GROUP"},
    {.name = "topic", .shortopt = 't', .has_value = 1, .meta = "TOPIC"},
    {.name = "yes", .shortopt = 'y', .has_value = 0},
    {0},
};

static int parse(int argc, char **argv, struct args *a, char *err)
{
    return args_parse(post_opts, argc, argv, a, err, 256);
}

Test(cli_args, options_and_positionals_mix)
{
    char *argv[] = {"hello", "--group", "Walkers", "world", "-t", "Assessments", "--json"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(7, argv, &a, err), 0);
    cr_assert_str_eq(args_get(&a, 0), "Walkers");
    cr_assert_str_eq(args_get(&a, 1), "Assessments");
    cr_assert_null(args_get(&a, 2));
    cr_assert_eq(a.npos, 2);
    cr_assert_str_eq(a.pos[0], "hello");
    cr_assert_str_eq(a.pos[1], "world");
    cr_assert_eq(a.json, 1);
    cr_assert_eq(a.help, 0);
    cr_assert_null(a.socket);
}

Test(cli_args, equals_form_and_short_attached)
{
    char *argv[] = {"--group=Peer walkers", "-tDirect payments", "--socket=/tmp/k.sock", "-y"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(4, argv, &a, err), 0);
    cr_assert_str_eq(args_get(&a, 0), "Peer walkers");
    cr_assert_str_eq(args_get(&a, 1), "Direct payments");
    cr_assert_str_eq(a.socket, "/tmp/k.sock");
    cr_assert_eq(a.count[2], 1);
    cr_assert_str_eq(args_get(&a, 2), "");
    cr_assert_eq(a.npos, 0);
}

Test(cli_args, dash_is_positional_and_double_dash_ends_options)
{
    char *argv[] = {"-", "--", "--group", "-y"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(4, argv, &a, err), 0);
    cr_assert_eq(a.npos, 3);
    cr_assert_str_eq(a.pos[0], "-");
    cr_assert_str_eq(a.pos[1], "--group");
    cr_assert_str_eq(a.pos[2], "-y");
    cr_assert_eq(a.count[0], 0);
    cr_assert_eq(a.count[2], 0);
}

Test(cli_args, repeated_option_keeps_every_value_in_order)
{
    char *argv[] = {"-t", "one", "--topic", "two", "--topic=three"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(5, argv, &a, err), 0);
    cr_assert_eq(a.count[1], 3);
    cr_assert_str_eq(a.val[1][0], "one");
    cr_assert_str_eq(a.val[1][1], "two");
    cr_assert_str_eq(a.val[1][2], "three");
    cr_assert_str_eq(args_get(&a, 1), "three");
}

Test(cli_args, help_flags)
{
    char *argv1[] = {"--help"};
    char *argv2[] = {"-h"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(1, argv1, &a, err), 0);
    cr_assert_eq(a.help, 1);
    cr_assert_eq(parse(1, argv2, &a, err), 0);
    cr_assert_eq(a.help, 1);
}

Test(cli_args, unknown_long_option_is_refused)
{
    char *argv[] = {"--grop", "x"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(2, argv, &a, err), -1);
    cr_assert_str_eq(err, "unknown option \"--grop\"");
}

Test(cli_args, unknown_short_option_is_refused)
{
    char *argv[] = {"-x"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(1, argv, &a, err), -1);
    cr_assert_str_eq(err, "unknown option \"-x\"");
}

Test(cli_args, bundled_flags_are_refused)
{
    char *argv[] = {"-yy"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(1, argv, &a, err), -1);
    cr_assert_str_eq(err, "unknown option \"-yy\"");
}

Test(cli_args, missing_value_is_refused)
{
    char *argv[] = {"hello", "--group"};
    char *argv2[] = {"-g"};
    char *argv3[] = {"--socket"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(2, argv, &a, err), -1);
    cr_assert_str_eq(err, "--group needs a value (GROUP)");
    cr_assert_eq(parse(1, argv2, &a, err), -1);
    cr_assert_str_eq(err, "-g needs a value (GROUP)");
    cr_assert_eq(parse(1, argv3, &a, err), -1);
    cr_assert_str_eq(err, "--socket needs a value (the path of the node's socket)");
}

Test(cli_args, value_given_to_a_flag_is_refused)
{
    char *argv[] = {"--yes=please"};
    char *argv2[] = {"--json=1"};
    struct args a;
    char err[256];

    cr_assert_eq(parse(1, argv, &a, err), -1);
    cr_assert_str_eq(err, "--yes does not take a value");
    cr_assert_eq(parse(1, argv2, &a, err), -1);
    cr_assert_str_eq(err, "--json does not take a value");
}

Test(cli_args, too_many_repeats_and_positionals)
{
    char *argv[2 * (ARGS_MAX_REPEAT + 1)];
    char *pos[ARGS_MAX_POS + 1];
    struct args a;
    char err[256];

    for (int i = 0; i < ARGS_MAX_REPEAT + 1; i++) {
        argv[2 * i] = "-t";
        argv[2 * i + 1] = "x";
    }
    cr_assert_eq(parse(2 * (ARGS_MAX_REPEAT + 1), argv, &a, err), -1);
    cr_assert_str_eq(err, "-t is given too many times");
    for (int i = 0; i < ARGS_MAX_POS + 1; i++)
        pos[i] = "w";
    cr_assert_eq(parse(ARGS_MAX_POS, pos, &a, err), 0);
    cr_assert_eq(a.npos, ARGS_MAX_POS);
    cr_assert_eq(parse(ARGS_MAX_POS + 1, pos, &a, err), -1);
    cr_assert_str_eq(err, "too many arguments");
}

Test(cli_args, no_options_declared)
{
    char *argv[] = {"abc123", "--json"};
    char *argv2[] = {"--group", "x"};
    struct args a;
    char err[256];

    cr_assert_eq(args_parse(NULL, 2, argv, &a, err, sizeof(err)), 0);
    cr_assert_eq(a.npos, 1);
    cr_assert_eq(a.json, 1);
    cr_assert_eq(args_parse(NULL, 2, argv2, &a, err, sizeof(err)), -1);
    cr_assert_str_eq(err, "unknown option \"--group\"");
}
