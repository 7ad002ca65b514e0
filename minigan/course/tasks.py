"""The course: six assignments, each a lesson in docs/course/ and tasks cut from the library.

A task's solution lives in the library itself, between the comment lines

    # BEGIN TASK a.b
    ...the real code...
    # END TASK a.b

(one task may have several regions: task 1.1 is the backward of nine ops).
`python -m minigan.course cut N` replaces every region of assignment N by a
NotImplementedError naming the task; its tests are the pytest tests marked
`task<a>_<b>` under tests/course/, and `python -m minigan.course grade` runs them.

Assignments 2-6 run on assignment 1's autograd engine: cut assignment 1 and
every other task fails too, with a "Task 1.x" message. Among 2-6 any order works.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Task:
    """One task: `id` "a.b", what the student writes (`todo`), and its points."""

    id: str
    title: str
    points: int
    todo: str

    @property
    def assignment(self):
        return int(self.id.split(".")[0])

    @property
    def marker(self):
        """The pytest marker of its tests: task1_2 for task 1.2."""
        return "task" + self.id.replace(".", "_")


@dataclasses.dataclass(frozen=True)
class Assignment:
    number: int
    title: str
    lesson: str        # the lesson's path, relative to the repository root
    tasks: tuple

    @property
    def points(self):
        return sum(t.points for t in self.tasks)


ASSIGNMENTS = (
    Assignment(1, "Autograd: the graph, the chain rule, broadcasting", "docs/course/01_autograd.md", (
        Task("1.1", "backward of the core elementwise ops", 4,
             "the backward of this elementwise op: dL/d(input) from g = dL/d(output), as the "
             "docstring states"),
        Task("1.2", "broadcasting's backward: sum_to", 2,
             "sum_to, broadcasting's adjoint: sum over the axes broadcasting added or "
             "stretched (forward), broadcast back (backward)"),
        Task("1.3", "topological order", 2,
             "the topological order: every tensor the roots depend on, each after its "
             "inputs, without recursion"),
        Task("1.4", "gradient accumulation", 2,
             "gradient accumulation: a tensor used twice gets the sum of both contributions"),
    )),
    Assignment(2, "Linear layers, softmax cross-entropy, SGD with momentum", "docs/course/02_mlp.md", (
        Task("2.1", "matmul and linear backward", 3,
             "matmul's backward: dL/da = g @ b^T, dL/db = a^T @ g, each summed over "
             "broadcast batch dims"),
        Task("2.2", "log-softmax (cross-entropy's core)", 3,
             "log-softmax: y = x - max - log(sum(exp(x - max))) (forward), "
             "dL/dx = g - exp(y) * sum(g) (backward)"),
        Task("2.3", "SGD with momentum (and the MLP on MNIST)", 3,
             "SGD's momentum: b = g on the first step, then b = momentum * b + "
             "(1 - dampening) * g; step along b (g + momentum * b with nesterov)"),
    )),
    Assignment(3, "Convolution: im2col, conv2d as a GEMM, its gradients", "docs/course/03_convolution.md", (
        Task("3.1", "im2col", 2,
             "im2col: cols[n, (c, i, j), (h, w)] = x_pad[n, c, s*h + d*i, s*w + d*j], "
             "one strided slice per kernel offset (i, j)"),
        Task("3.2", "textbook conv2d: forward as a GEMM, backward, the weight gradient", 4,
             "conv2d as y[n] = W @ im2col(x)[n], its backward (dL/dx = conv_transpose2d(g, w), "
             "dL/dw = Conv2dWeightGrad(x, g)) and the weight gradient "
             "gw = sum_n gy[n] @ im2col(x)[n]^T"),
        Task("3.3", "textbook conv_transpose2d: conv2d's adjoint, col2im", 3,
             "conv_transpose2d as conv2d's adjoint: col2im (add each column entry back onto its "
             "pixel), y = col2im(W^T @ x[n]), and its backward (dL/dx = conv2d(g, w), "
             "dL/dw = Conv2dWeightGrad(g, x))"),
    )),
    Assignment(4, "Batch norm's backward, running statistics, Adam", "docs/course/04_batchnorm_adam.md", (
        Task("4.1", "textbook batch norm forward, running statistics, evaluation", 3,
             "batch norm's forward: x_hat = (x - mu) / sqrt(var + eps), y = gamma x_hat + beta, "
             "moving running_mean/running_var (unbiased var) in training, using them in evaluation"),
        Task("4.2", "textbook batch norm backward", 4,
             "batch norm's backward: dL/dx = (1/m) gamma / sigma (m dy - sum dy - x_hat "
             "sum(dy x_hat)), dL/dgamma = sum dy x_hat, dL/dbeta = sum dy"),
        Task("4.3", "the Adam update", 2,
             "the Adam step: m, v as running means of g and g^2, bias-corrected, "
             "p -= lr m_hat / (sqrt(v_hat) + eps)"),
    )),
    Assignment(5, "The GAN game: losses, the D step and the G step", "docs/course/05_gan.md", (
        Task("5.1", "the discriminator loss and the non-saturating generator loss", 2,
             "d_loss = BCE(D(x), 1) + BCE(D(G(z)), 0) and the non-saturating "
             "g_loss = BCE(D(G(z)), 1), from logits"),
        Task("5.2", "the D step", 3,
             "the discriminator step: logits of real and of detached fakes, d_loss, "
             "zero_grad, backward, step"),
        Task("5.3", "the G step", 2,
             "the generator step: D's logits of the (not detached) fakes, the "
             "non-saturating loss, zero_grad, backward, step"),
        Task("5.4", "k D steps per G step", 1,
             "k D steps per G step: a G step only on every d_steps-th step"),
    )),
    Assignment(6, "WGAN-GP: the critic and the gradient penalty", "docs/course/06_wgan_gp.md", (
        Task("6.1", "the gradient penalty (a gradient of a gradient)", 4,
             "the gradient penalty: interpolates x_hat, the critic's gradient at x_hat "
             "with create_graph=True, the mean of (||grad||_2 - 1)^2"),
        Task("6.2", "the Wasserstein critic and generator losses", 1,
             "the Wasserstein losses: critic_loss = mean D(G(z)) - mean D(x), "
             "wasserstein_g_loss = -mean D(G(z))"),
    )),
)


def assignment(number):
    """The Assignment numbered `number`, or ValueError naming the ones there are."""
    for a in ASSIGNMENTS:
        if a.number == number:
            return a
    raise ValueError(f"no assignment {number}: the assignments are "
                     + ", ".join(str(a.number) for a in ASSIGNMENTS))


def all_tasks():
    return [t for a in ASSIGNMENTS for t in a.tasks]


def task(task_id):
    for t in all_tasks():
        if t.id == task_id:
            return t
    raise KeyError(f"no task {task_id}")


def lesson_of(task_obj):
    return assignment(task_obj.assignment).lesson
