import type { Fn } from '../autograd.ts';

/** Mean softmax cross-entropy; inputs [logits [N,K], labels [N]]; output [1]. */
export const softmaxCrossEntropyFn: Fn<null> = {
  name: 'softmax_cross_entropy',
  forward(be, [logits, labels], _a, save) {
    const [loss, probs] = be.softmaxCrossEntropy(logits, labels);
    save(probs);
    return loss;
  },
  // The seed gradient of a scalar loss is 1: dlogits = (probs - onehot) / N.
  backward: (be, _gy, { inputs: [logits, labels], saved: [probs] }) => [
    be.softmaxCrossEntropyBackward(probs, labels, 1 / logits.shape[0]),
    null,
  ],
};
