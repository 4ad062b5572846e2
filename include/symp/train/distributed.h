#pragma once
// Where a process stands in a multi-process (data-parallel) run, read from the variables torchrun and
// SLURM set, and the local launcher behind `symp train-lora --nproc N`. No torch here.
//
//   if (auto env = symp::train::detect_dist_env()) { ... join rank env->rank of env->world_size ... }
//   else if (nproc > 1) return symp::train::launch_local(nproc, argv);  // N children, then their status
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace symp::train {

struct DistEnv {
  int rank = 0, world_size = 1;              // global
  int local_rank = 0, local_world_size = 1;  // on this node (one device per local rank)
  std::string master_addr = "127.0.0.1";     // the TCPStore rendezvous, hosted by rank 0
  int master_port = 29500;                   // torchrun's default
  std::string source;                        // "torchrun" (RANK, WORLD_SIZE...) or "slurm" (SLURM_*)
};

// The run this process joins, or nullopt for a single process: torchrun's RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT first; else an srun step's SLURM_PROCID, SLURM_NTASKS,
// SLURM_LOCALID, SLURM_NTASKS_PER_NODE, with MASTER_ADDR (or SLURM_LAUNCH_NODE_IPADDR) and MASTER_PORT.
// A malformed or contradictory variable is a UsageError naming it.
std::optional<DistEnv> detect_dist_env();

// Starts `nproc` copies of this process (argv without --nproc) as ranks 0..nproc-1 on 127.0.0.1 with a
// free port, each with 1/nproc of the cores unless --threads is given; forwards SIGINT/SIGTERM; when one
// rank fails, stops the others (SIGTERM, then SIGKILL after `grace`) and says which rank failed and how.
// Returns the exit code of the run: 0 when every rank succeeded.
int launch_local(int nproc, const std::vector<std::string>& argv,
                 std::chrono::seconds grace = std::chrono::seconds(10));

// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick for an ephemeral bind).
int free_local_port();

// This process's command line (Linux: /proc/self/cmdline), argv[0] replaced by the executable's path.
std::vector<std::string> own_command_line();

// `argv` without "--nproc N" / "--nproc=N".
std::vector<std::string> without_nproc(const std::vector<std::string>& argv);

}  // namespace symp::train
