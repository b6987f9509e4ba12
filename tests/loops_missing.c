/* Stands in for a loop example that was not built because its library was
 * not found: skips (77), or fails under EVAIO_TEST_NO_SKIP=1, where every
 * loop's library must be installed. */
#include "check.h"

int main(int argc, char **argv)
{
    char why[256];
    snprintf(why, sizeof why, "%s was not found when the build was configured",
             argc > 1 ? argv[1] : "a library");
    SKIP(why);
}
