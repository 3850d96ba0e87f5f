//! For you on small synthetic embeddings with a known answer: topics along separate
//! axes of the space.

use chrono::TimeZone;

use super::*;

/// A unit vector near axis `topic`, perturbed deterministically by `seed`.
fn vector(topic: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut v: Vec<f32> = (0..32)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.3
        })
        .collect();
    v[topic] += 1.0;
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0)
        .single()
        .expect("time")
}

/// Candidates on topics 0..8 (key 100 + 10·topic + i), published a day ago, in
/// category `cat.{topic}`; plus key 999 on topic 0 published a year ago.
struct World {
    vectors: Vec<(i64, Vec<f32>)>,
    categories: Vec<Vec<String>>,
    background: Vec<(i64, Vec<f32>)>,
}

fn world() -> World {
    let mut vectors = Vec::new();
    let mut categories = Vec::new();
    for topic in 0..8 {
        for i in 0..5 {
            let key = 100 + 10 * topic as i64 + i;
            vectors.push((key, vector(topic, key as u64)));
            categories.push(vec![format!("cat.{topic}")]);
        }
    }
    vectors.push((999, vector(0, 999)));
    categories.push(vec!["cat.0".to_owned()]);
    let background = (0..80)
        .map(|s| (5000 + s, vector(s as usize % 16, 5000 + s as u64)))
        .collect();
    World {
        vectors,
        categories,
        background,
    }
}

impl World {
    fn candidates(&self) -> Vec<Candidate<'_>> {
        self.vectors
            .iter()
            .zip(&self.categories)
            .map(|((key, v), categories)| Candidate {
                key: *key,
                vector: Some(v),
                categories,
                published: Some(if *key == 999 {
                    now() - Duration::days(365)
                } else {
                    now() - Duration::days(1)
                }),
                // Later keys trend more, so the cold start's order is known.
                trending: (*key % 10) as f64,
            })
            .collect()
    }

    fn vector(&self, key: i64) -> &[f32] {
        &self.vectors.iter().find(|(k, _)| *k == key).expect("key").1
    }
}

fn background(world: &World) -> Vec<(i64, &[f32])> {
    world
        .background
        .iter()
        .map(|(k, v)| (*k, v.as_slice()))
        .collect()
}

#[test]
fn liked_papers_bring_their_neighbours_with_the_closest_as_reason() {
    let world = world();
    let candidates = world.candidates();
    let liked = [
        Liked {
            key: 100,
            signal: Signal::Saved,
            vector: world.vector(100),
        },
        Liked {
            key: 130,
            signal: Signal::Upvoted,
            vector: world.vector(130),
        },
    ];
    let background = background(&world);
    let inputs = Inputs {
        liked: &liked,
        less: &[],
        less_without_vectors: &[],
        background: &background,
        picked: &[],
        candidates: &candidates,
    };
    let ranked = for_you(&inputs, now(), 8, &Params::default());
    assert_eq!(ranked.len(), 8);
    for r in &ranked {
        let topic = (r.key - 100) / 10;
        assert!(topic == 0 || topic == 3, "{} is on topic {topic}", r.key);
        let Reason::Close { key, signal, .. } = r.reason else {
            panic!("a reason");
        };
        if topic == 0 {
            assert_eq!((key, signal), (100, Signal::Saved));
        } else {
            assert_eq!((key, signal), (130, Signal::Upvoted));
        }
    }
    assert!(ranked[0].confident() && ranked[0].score > ranked[7].score);
    assert!(
        !ranked.iter().any(|r| r.key == 100 || r.key == 130),
        "liked ones left out"
    );
    assert!(
        !ranked.iter().any(|r| r.key == 999),
        "a year old is not recent"
    );
    let wide = Params {
        window_days: 400,
        ..Params::default()
    };
    assert!(
        for_you(&inputs, now(), 8, &wide)
            .iter()
            .any(|r| r.key == 999),
        "inside a wider window"
    );
}

#[test]
fn less_like_this_pushes_a_topic_down() {
    let world = world();
    let candidates = world.candidates();
    // Liked: one paper between topics 0 and 1; "less" of topic 1.
    let mut between: Vec<f32> = world
        .vector(100)
        .iter()
        .zip(world.vector(110))
        .map(|(a, b)| a + b)
        .collect();
    let norm = between.iter().map(|x| x * x).sum::<f32>().sqrt();
    between.iter_mut().for_each(|x| *x /= norm);
    let liked = [Liked {
        key: 1,
        signal: Signal::More,
        vector: &between,
    }];
    let background = background(&world);
    let rank = |less: &[(i64, &[f32])]| {
        let inputs = Inputs {
            liked: &liked,
            less,
            less_without_vectors: &[],
            background: &background,
            picked: &[],
            candidates: &candidates,
        };
        for_you(&inputs, now(), 5, &Params::default())
    };
    let topic_one =
        |ranked: &[Recommendation]| ranked.iter().filter(|r| (r.key - 100) / 10 == 1).count();
    let less = [(111, world.vector(111)), (112, world.vector(112))];
    let without = rank(&[]);
    let with = rank(&less);
    assert!(
        topic_one(&with) < topic_one(&without),
        "less: {with:?}, without: {without:?}"
    );
    assert!(
        !with.iter().any(|r| r.key == 111 || r.key == 112),
        "rated ones left out"
    );
    assert!(matches!(
        with[0].reason,
        Reason::Close {
            signal: Signal::More,
            ..
        }
    ));
}

#[test]
fn without_signal_the_picked_categories_trend() {
    let world = world();
    let candidates = world.candidates();
    let picked = ["cat.2".to_owned(), "cat".to_owned()];
    let inputs = Inputs {
        liked: &[],
        less: &[],
        less_without_vectors: &[124],
        background: &[],
        picked: &picked[..1],
        candidates: &candidates,
    };
    let ranked = for_you(&inputs, now(), 10, &Params::default());
    let keys: Vec<i64> = ranked.iter().map(|r| r.key).collect();
    assert_eq!(
        keys,
        [123, 122, 121, 120],
        "trending first, the rated one left out"
    );
    assert!(
        ranked
            .iter()
            .all(|r| r.reason == Reason::Picked("cat.2".to_owned()))
    );
    // A whole archive matches each of its categories.
    let archive = Inputs {
        picked: &picked[1..],
        ..inputs
    };
    assert_eq!(for_you(&archive, now(), 100, &Params::default()).len(), 39);
    let nothing = Inputs {
        picked: &[],
        ..inputs
    };
    assert!(for_you(&nothing, now(), 10, &Params::default()).is_empty());
}

#[test]
fn the_same_inputs_rank_the_same() {
    let world = world();
    let candidates = world.candidates();
    let liked = [Liked {
        key: 150,
        signal: Signal::Upvoted,
        vector: world.vector(150),
    }];
    let inputs = Inputs {
        liked: &liked,
        less: &[],
        less_without_vectors: &[],
        // No background: the candidates stand in as "not this".
        background: &[],
        picked: &[],
        candidates: &candidates,
    };
    let first = for_you(&inputs, now(), 4, &Params::default());
    assert_eq!(first, for_you(&inputs, now(), 4, &Params::default()));
    assert!(first.iter().all(|r| (r.key - 100) / 10 == 5), "{first:?}");
}

#[test]
fn reasons_read_as_one_line() {
    let close = Reason::Close {
        key: 1,
        signal: Signal::Saved,
        similarity: 0.9,
    };
    assert_eq!(
        close.text("Attention Is\n  All You Need"),
        "close to “Attention Is All You Need”, which you saved"
    );
    assert_eq!(close.liked(), Some(1));
    let picked = Reason::Picked("cs.CL".to_owned());
    assert_eq!(picked.text(""), "in cs.CL, which you picked");
    assert_eq!(picked.liked(), None);
}

#[test]
fn the_background_sample_is_evenly_spaced_and_stable() {
    let keys: Vec<i64> = (1..=10).collect();
    assert_eq!(background_sample(&keys, 5), vec![1, 3, 5, 7, 9]);
    assert_eq!(background_sample(&keys, 3), vec![1, 4, 7]);
    assert_eq!(background_sample(&keys, 20), keys);
    assert_eq!(background_sample(&keys, 0), Vec::<i64>::new());
    assert_eq!(background_sample(&[], 5), Vec::<i64>::new());
}
