// faceatt reembed: every stored embedding again, with the current model.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "command.h"
#include "faceatt/reembed.h"

namespace faceatt::cli {

Runner SetupReembed(CLI::App& app) {
  return [](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Config * config, ctx.config());
    FACEATT_ASSIGN_OR_RETURN(FaceService * service, ctx.service());
    FACEATT_ASSIGN_OR_RETURN(FacePipeline * pipeline, ctx.pipeline());
    // Progress on stderr: one updated line on a terminal, a line every 10 s otherwise.
    const bool tty = ::isatty(STDERR_FILENO) == 1, quiet = ctx.options().quiet;
    double last = 0;
    ReembedOptions opts;
    opts.progress = [&](const ReembedProgress& p) {
      if (quiet || (!tty && p.elapsed_seconds - last < 10 && p.done != p.total)) return;
      last = p.elapsed_seconds;
      std::fprintf(stderr, "%sreembed: %d/%d people, %d embeddings, %.1f s%s", tty ? "\r" : "",
                   p.done, p.total, p.embeddings, p.elapsed_seconds,
                   tty && p.done != p.total ? "" : "\n");
      std::fflush(stderr);
    };
    FACEATT_ASSIGN_OR_RETURN(ReembedSummary s, Reembed(*config, *service, *pipeline, opts));
    std::cout << "model: " << s.model_id << "\n"
              << "people: " << s.people_total << " total, " << s.people_reembedded
              << " re-embedded, " << s.people_skipped << " already done, " << s.people_failed
              << " with photos not re-embedded\n"
              << "embeddings: " << s.embeddings_reembedded << " re-embedded (" << s.from_chip
              << " from kept chips, " << s.from_source << " from source photos), "
              << s.embeddings_failed << " failed\n";
    if (!s.failures.empty()) std::cout << "not re-embedded:\n";
    for (const auto& f : s.failures)
      std::cout << "  " << f.employee_id << "\t" << f.name << "\t" << f.photo << ": " << f.reason
                << "\n";
    std::cout << "time: " << Fixed(s.seconds, 1) << " s\n";
    // Those listed keep only their old model's embeddings: identify ignores them.
    return s.failures.empty() ? kExitOk : kExitBadInput;
  };
}

}  // namespace faceatt::cli
