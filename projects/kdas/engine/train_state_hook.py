"""Checkpoints the training state a model keeps outside its weights and buffers."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class TrainStateHook(Hook):
    """Saves ``model.train_state()`` in every checkpoint and hands it back to
    ``model.load_train_state`` when one is loaded (``--resume``, ``load_from``).

    For state that must survive a resume but is not a weight: the running loss means of
    ``DistillationSegmentor(balance_terms=True)``, which stay out of the state dict so that
    a KDAS checkpoint holds only the student under the student's own key names. Models
    without ``train_state`` are left alone. The state must be plain Python numbers and
    strings (the checkpoint loader accepts no other objects).
    """
    KEY = 'model_train_state'

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = self._model(runner)
        if hasattr(model, 'train_state'):
            checkpoint[self.KEY] = model.train_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = self._model(runner)
        if self.KEY in checkpoint and hasattr(model, 'load_train_state'):
            model.load_train_state(checkpoint[self.KEY])
