"""Playing evaluation episodes and measuring what the maps are worth.

``episodes`` (ChainerRL's evaluation loop with observers), ``rollout``
(recorded rollouts), ``objects`` (object positions from RAM), ``metrics``
(the faithfulness measures), ``study`` and ``report`` (the faithfulness
report's evaluation and its writing).
"""
