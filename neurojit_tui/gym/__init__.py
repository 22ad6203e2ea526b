"""The lander in the RL ecosystem: Gymnasium environments, and TensorLang controllers
flown in any Gymnasium environment with the lander's spaces.

``import neurojit_tui.gym`` registers ``NeuroJIT/LunarLander-v0``::

    env = gymnasium.make("NeuroJIT/LunarLander-v0", gravity=3.0, turbulence=0.5)
    envs = gymnasium.make_vec("NeuroJIT/LunarLander-v0", num_envs=64)  # the native kernel

(or, without the import: ``gymnasium.make("neurojit_tui.gym:NeuroJIT/LunarLander-v0")``).
``lander.py`` is the single environment (``sim/model.py`` with numpy), ``vector.py`` the
vector one (``step_kernel.py``). ``environments.py`` names and makes any Gymnasium
environment for a controller (``--env ID --env-arg KEY=VALUE``), ``fly.py`` flies a TensorLang
controller in this process, ``judge.py`` in worker processes (``groups.py``); ``neurojit gym``.
This package never imports textual.
"""

import gymnasium

from ..sim.model import MAX_STEPS

ENV_ID = "NeuroJIT/LunarLander-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=ENV_ID,
        entry_point="neurojit_tui.gym.lander:LunarLanderEnv",
        vector_entry_point="neurojit_tui.gym.vector:LunarLanderVectorEnv",
        max_episode_steps=MAX_STEPS,
    )

__all__ = ["ENV_ID"]
