// faceatt serve: starts the library's Server and waits for SIGTERM/SIGINT.
#include <signal.h>

#include <iostream>

#include "command.h"
#include "faceatt/server.h"

namespace faceatt::cli {

Runner SetupServe(CLI::App& app) {
  struct Options {
    std::string host, camera, web_dir;
    int port = -1, workers = 0;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--host", o->host, "Address to listen on (default server.host)");
  app.add_option("--port", o->port, "Port (default server.port; 0 = any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--workers", o->workers, "Pipelines working in parallel (default server.workers)")
      ->check(CLI::Range(1, 64));
  app.add_option("--camera", o->camera,
                 "Camera source: device index, video file or URL (default camera.source)");
  app.add_option("--web-dir", o->web_dir,
                 "Serve the web pages from this folder, reread per request (default "
                 "server.web_dir; \"\" = compiled in)");
  return [o](Context& ctx) -> Result<int> {
    // Signals are taken by this thread only: block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    FACEATT_ASSIGN_OR_RETURN(Config * config, ctx.config());
    if (!o->host.empty()) FACEATT_RETURN_IF_ERROR(config->Set("server.host", o->host, "--host"));
    if (o->port >= 0)
      FACEATT_RETURN_IF_ERROR(config->Set("server.port", std::to_string(o->port), "--port"));
    if (o->workers > 0)
      FACEATT_RETURN_IF_ERROR(
          config->Set("server.workers", std::to_string(o->workers), "--workers"));
    if (!o->web_dir.empty())
      FACEATT_RETURN_IF_ERROR(config->Set("server.web_dir", o->web_dir, "--web-dir"));
    if (!o->camera.empty())
      FACEATT_RETURN_IF_ERROR(config->Set("camera.source", o->camera, "--camera"));
    SetComputeThreads(1);  // parallelism comes from the worker pipelines
    FACEATT_ASSIGN_OR_RETURN(Store* store, ctx.store());
    FACEATT_ASSIGN_OR_RETURN(auto models, ctx.models());
    ServerOptions options;
    options.version = FACEATT_VERSION;
    FACEATT_ASSIGN_OR_RETURN(auto server, Server::Create(*config, models, store, options));
    FACEATT_RETURN_IF_ERROR(server->Start());
    std::cout << "faceatt serve: listening on http://" << server->host() << ":" << server->port()
              << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    std::cerr << "faceatt serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
              << ": finishing requests in flight, flushing webhooks" << std::endl;
    server->Shutdown();
    server.reset();
    return kExitOk;  // the Context closes the database
  };
}

}  // namespace faceatt::cli
